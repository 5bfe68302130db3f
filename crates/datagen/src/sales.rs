//! Daily category × channel summary rows and refunds of one firm.

use chrono::{Days, NaiveDate};
use rand::Rng;

use crate::firm::{noise, Firm, ITEMS_PER_TXN};
use crate::vocab::{Category, Channel};

/// Share of sales rows followed by a refund row (gives ~0.75% refund rows).
pub(crate) const REFUND_RATE: f64 = 0.0075;
/// Share of rows whose receipt id is left empty (till exports are not perfect).
pub(crate) const EMPTY_RECEIPT_RATE: f64 = 0.01;

/// One row of `sales.csv`, amounts in cents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SalesRow {
    pub date: NaiveDate,
    pub category: Category,
    pub channel: Channel,
    /// Net of VAT; negative for refunds.
    pub net_cents: i64,
    pub units: u32,
    pub transactions: u32,
}

/// Row-level noise per channel: store days are steady, online and wholesale lumpy.
const ROW_SIGMA: [f64; 3] = [0.15, 0.35, 0.25];

/// Draws the summary row of one category and channel on one day from its expected revenue.
///
/// With `sparse`, a row worth only a few units appears only on some days (scaled up so the
/// expectation is kept); returns `None` on days without sales.
pub(crate) fn draw_row<R: Rng + ?Sized>(
    firm: &Firm,
    rng: &mut R,
    date: NaiveDate,
    channel: Channel,
    category: Category,
    expected: f64,
    sparse: bool,
) -> Option<SalesRow> {
    if expected <= 0.0 {
        return None;
    }
    let price = firm.unit_price(channel, category);
    let mut revenue = expected;
    if sparse {
        let units = expected / price;
        if units < 4.0 {
            let p = units / 4.0;
            if !rng.random_bool(p) {
                return None;
            }
            revenue /= p;
        }
    }
    revenue *= noise(rng, ROW_SIGMA[channel.idx()]);
    let units = (revenue / (price * rng.random_range(0.85..1.15)))
        .round()
        .max(1.0);
    let units = units.min(f64::from(u32::MAX / 2)) as u32;
    let transactions = match channel {
        Channel::Store => {
            let per = ITEMS_PER_TXN[category.idx()] * firm.basket * rng.random_range(0.8..1.2);
            (f64::from(units) / per).ceil() as u32
        }
        Channel::Online => {
            let per = if category == Category::Cakes {
                1.2
            } else {
                rng.random_range(1.5..4.0)
            };
            (f64::from(units) / per).round() as u32
        }
        Channel::Wholesale => rng.random_range(1..=firm.wholesale_customers),
    }
    .clamp(1, units);
    let net_cents = ((revenue * 100.0).round() as i64).max(1);
    Some(SalesRow {
        date,
        category,
        channel,
        net_cents,
        units,
        transactions,
    })
}

/// A refund booked against `sale` on the same day: negative amount, few or no units.
pub(crate) fn draw_refund<R: Rng + ?Sized>(firm: &Firm, rng: &mut R, sale: &SalesRow) -> SalesRow {
    let price = firm.unit_price(sale.channel, sale.category);
    let (amount, units, transactions) = match sale.channel {
        Channel::Store => {
            let k = rng.random_range(1..=3u32);
            let amount = f64::from(k) * price * rng.random_range(0.9..1.1);
            (amount, if rng.random_bool(0.5) { 0 } else { k }, 1)
        }
        Channel::Online => {
            let order = sale.net_cents as f64 / 100.0 / f64::from(sale.transactions.max(1));
            let k = rng.random_range(1..=2u32);
            let amount = order * rng.random_range(0.5..1.0);
            (amount, if rng.random_bool(0.5) { 0 } else { k }, 1)
        }
        Channel::Wholesale => {
            let amount = sale.net_cents as f64 / 100.0 * rng.random_range(0.03..0.15);
            (amount, 0, u32::from(rng.random_bool(0.5)))
        }
    };
    SalesRow {
        net_cents: -((amount * 100.0).round() as i64).max(1),
        units,
        transactions,
        ..sale.clone()
    }
}

/// All sales rows of `firm` for the days in `[start, end)`, in date order, refunds after their sale.
pub(crate) fn firm_sales<R: Rng + ?Sized>(
    firm: &Firm,
    rng: &mut R,
    start: NaiveDate,
    end: NaiveDate,
) -> Vec<SalesRow> {
    let mut rows = Vec::new();
    let mut date = start;
    while date < end {
        if !firm.closed(date) {
            // Weather, local events: one factor for the whole day.
            let day = noise(rng, 0.10);
            for category in Category::ALL {
                for channel in Channel::ALL {
                    let expected = firm.expected(date, channel, category) * day;
                    if let Some(row) = draw_row(firm, rng, date, channel, category, expected, true)
                    {
                        let refund = rng
                            .random_bool(REFUND_RATE)
                            .then(|| draw_refund(firm, rng, &row));
                        rows.push(row);
                        rows.extend(refund);
                    }
                }
            }
        }
        date = date + Days::new(1);
    }
    rows
}
