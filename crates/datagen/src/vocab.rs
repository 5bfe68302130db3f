//! The closed vocabularies of the two CSV files and their headers.

/// Header row of `sales.csv`, in column order.
pub const SALES_HEADER: [&str; 8] = [
    "date",
    "category",
    "channel",
    "net_amount",
    "units",
    "transactions",
    "currency",
    "receipt_id",
];

/// Header row of `costs.csv`, in column order.
pub const COSTS_HEADER: [&str; 6] = [
    "date",
    "cost_type",
    "amount",
    "currency",
    "supplier",
    "invoice_id",
];

/// Allowed values of the `category` column of `sales.csv`.
pub const CATEGORIES: [&str; 6] = ["bread", "pastry", "cakes", "savoury", "drinks", "other"];

/// Allowed values of the `channel` column of `sales.csv`.
pub const CHANNELS: [&str; 3] = ["store", "online", "wholesale"];

/// Allowed values of the `cost_type` column of `costs.csv`.
pub const COST_TYPES: [&str; 6] = ["cogs", "rent", "wages", "energy", "marketing", "other"];

/// The only currency the generator writes.
pub const CURRENCY: &str = "EUR";

/// A sales category; the discriminant indexes [`CATEGORIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    Bread = 0,
    Pastry = 1,
    Cakes = 2,
    Savoury = 3,
    Drinks = 4,
    Other = 5,
}

impl Category {
    pub(crate) const ALL: [Category; 6] = [
        Category::Bread,
        Category::Pastry,
        Category::Cakes,
        Category::Savoury,
        Category::Drinks,
        Category::Other,
    ];

    pub(crate) fn idx(self) -> usize {
        self as usize
    }

    pub(crate) fn as_str(self) -> &'static str {
        CATEGORIES[self.idx()]
    }
}

/// A sales channel; the discriminant indexes [`CHANNELS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Store = 0,
    Online = 1,
    Wholesale = 2,
}

impl Channel {
    pub(crate) const ALL: [Channel; 3] = [Channel::Store, Channel::Online, Channel::Wholesale];

    pub(crate) fn idx(self) -> usize {
        self as usize
    }

    pub(crate) fn as_str(self) -> &'static str {
        CHANNELS[self.idx()]
    }
}

/// A cost type; the discriminant indexes [`COST_TYPES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum CostType {
    Cogs = 0,
    Rent = 1,
    Wages = 2,
    Energy = 3,
    Marketing = 4,
    Other = 5,
}

impl CostType {
    pub(crate) fn as_str(self) -> &'static str {
        COST_TYPES[self as usize]
    }
}
