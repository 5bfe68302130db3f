//! One member firm's fixed profile: size, mix, opening days, cost structure, suppliers.

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, StandardNormal};

use crate::season;
use crate::vocab::{Category, Channel};

/// Independent random streams derived from one (seed, firm) pair.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    Profile = 1,
    Sales = 2,
    Costs = 3,
    BigProfile = 4,
    BigRows = 5,
    Kpi = 6,
}

/// SplitMix64 finaliser: a bijective 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The RNG of one stream of firm `id`, independent of how many firms are generated.
pub(crate) fn rng_for(seed: u64, id: u64, stream: Stream) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(mix(mix(seed) ^ id) ^ stream as u64))
}

/// exp(σ·z − σ²/2): multiplicative noise with mean 1.
pub(crate) fn noise<R: Rng + ?Sized>(rng: &mut R, sigma: f64) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    (sigma * z - sigma * sigma / 2.0).exp()
}

/// A supplier as written to `costs.csv`: name and the prefix of its invoice numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Supplier {
    pub name: &'static str,
    pub code: &'static str,
}

const fn s(name: &'static str, code: &'static str) -> Supplier {
    Supplier { name, code }
}

const MILLS: [Supplier; 3] = [
    s("Hofmühle Lindner GmbH", "HML"),
    s("Vermeulen Meel B.V.", "VMB"),
    s("Moulins Durand SAS", "MDS"),
];
const DAIRIES: [Supplier; 2] = [
    s("Molkerei Alpenhof eG", "MAE"),
    s("Zuivel Noord B.V.", "ZNB"),
];
const WHOLESALERS: [Supplier; 3] = [
    s("BackWaren Großhandel Süd GmbH", "BGS"),
    s("Schmidt, Becker & Co. KG", "SBC"),
    s("Épicerie Centrale Lefèvre", "ECL"),
];
const EXTRAS: [Supplier; 4] = [
    s("Geflügelhof Brandt", "GHB"),
    s("Obsthof Seidel", "OHS"),
    s("Verpackung Plus GmbH", "VPG"),
    s("Chocolaterie Lemaire SA", "CLS"),
];
const COFFEE: [Supplier; 2] = [
    s("Kaffeerösterei Nordlicht", "KRN"),
    s("Getränke Krüger OHG", "GKO"),
];
const LANDLORDS: [Supplier; 4] = [
    s("Hausverwaltung Keller GmbH", "HVK"),
    s("Immobilien Vogt KG", "IVK"),
    s("M. Hoffmann (privat)", "MHP"),
    s("Wohnbau Genossenschaft Mitte eG", "WGM"),
];
const ENERGY: [Supplier; 3] = [
    s("Stadtwerke Nordstadt", "SWN"),
    s("Energie Süd AG", "ESA"),
    s("GreenPower Versorgung GmbH", "GPV"),
];
/// Suppliers of marketing services.
pub(crate) const MARKETING: [Supplier; 5] = [
    s("Druckerei Wagner", "DRW"),
    s("Meta Platforms Ireland Ltd.", "MPI"),
    s("Google Ireland Ltd.", "GIL"),
    s("Stadtanzeiger Verlag", "SAV"),
    s("Radio Lokal 98,4", "RL9"),
];
/// Suppliers of other costs (insurance, accounting, repairs, bank); "" is a cash purchase.
pub(crate) const OTHER: [Supplier; 5] = [
    s("Versicherung Allgemeine AG", "VAA"),
    s("Steuerbüro Richter", "STR"),
    s("Kälte-Technik Özdemir", "KTO"),
    s("Sparkasse Kontoführung", "SPK"),
    s("", "KAS"),
];
/// Payroll service that invoices social contributions when payroll is split in two rows.
pub(crate) const PAYROLL: Supplier = s("Lohnbüro Schulz", "LBS");

/// Store unit price (EUR) of a typical item per category.
const PRICE: [f64; 6] = [3.40, 2.30, 4.20, 4.60, 2.90, 6.50];
/// Price multiplier per channel and category (online cakes are whole cakes; wholesale is discounted).
const CHANNEL_PRICE: [[f64; 6]; 3] = [
    [1.0; 6],
    [1.0, 1.0, 6.5, 1.0, 1.0, 1.5],
    [0.75, 0.70, 0.70, 0.70, 0.70, 0.70],
];
/// Items of a category per customer transaction in the store.
pub(crate) const ITEMS_PER_TXN: [f64; 6] = [1.6, 2.2, 1.4, 1.3, 1.1, 1.2];
/// How much each channel sells of each category relative to the firm's overall mix.
const CHANNEL_AFFINITY: [[f64; 6]; 3] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    [0.6, 0.8, 2.5, 0.4, 0.0, 0.8],
    [1.8, 1.2, 0.6, 0.8, 0.0, 0.0],
];
/// Typical overall category mix of a bakery (share of revenue).
const BASE_MIX: [f64; 6] = [0.38, 0.22, 0.14, 0.10, 0.10, 0.06];

/// The fixed profile of one member firm.
#[derive(Debug, Clone)]
pub(crate) struct Firm {
    /// Expected net sales (EUR) over the year starting at the reference date.
    pub annual_revenue: f64,
    /// Share of revenue per channel (store, online, wholesale).
    pub channel_share: [f64; 3],
    /// Category mix within each channel (rows sum to 1, or all zero for an unused channel).
    pub channel_mix: [[f64; 6]; 3],
    pub sunday_closed: bool,
    pub monday_closed: bool,
    /// Multiplier on all unit prices (town centre vs village).
    pub price_level: f64,
    /// Multiplier on items per transaction.
    pub basket: f64,
    /// Number of wholesale customers (cafés, restaurants, canteens).
    pub wholesale_customers: u32,
    /// Yearly growth of demand.
    pub growth: f64,
    /// EUR of expected revenue per unit of calendar weight, per channel.
    base: [f64; 3],
    /// Reference date for growth.
    reference: NaiveDate,

    /// Cost of goods sold as a share of net sales.
    pub cogs_share: f64,
    /// Monthly rent in cents.
    pub rent_cents: i64,
    /// Whether the landlord sends invoices (otherwise a standing order without invoice id).
    pub rent_invoiced: bool,
    pub landlord: Supplier,
    /// Wages as a share of revenue.
    pub wage_share: f64,
    /// Whether payroll appears as two rows (net wages and social contributions).
    pub split_payroll: bool,
    /// Energy as a share of revenue.
    pub energy_share: f64,
    pub energy_supplier: Supplier,
    /// Goods suppliers with their share of the cost of goods, and deliveries per month.
    pub cogs_suppliers: Vec<(Supplier, f64, u32)>,
}

impl Firm {
    /// Draws the profile of firm `id` (1-based) for `seed`; revenue is calibrated over the year from `reference`.
    pub(crate) fn new(seed: u64, id: usize, reference: NaiveDate, stream: Stream) -> Firm {
        let mut rng = rng_for(seed, id as u64, stream);
        let r = &mut rng;
        let revenue_dist = LogNormal::new(400_000f64.ln(), 0.9).expect("valid log-normal");
        let annual_revenue = revenue_dist.sample(r).clamp(50_000.0, 8_000_000.0);
        let big = annual_revenue > 400_000.0;

        // Overall category mix: the typical bakery, perturbed; some sell no drinks.
        let mut mix = BASE_MIX;
        for m in mix.iter_mut() {
            *m *= noise(r, 0.35);
        }
        if r.random_bool(0.2) {
            mix[Category::Drinks.idx()] = 0.0;
        }

        // Channels: store always; online for some, wholesale mostly for the larger firms.
        let online = if r.random_bool(0.35) {
            r.random_range(0.03..0.12)
        } else {
            0.0
        };
        let wholesale = if r.random_bool(if big { 0.45 } else { 0.15 }) {
            r.random_range(0.10..0.35)
        } else {
            0.0
        };
        let channel_share = [1.0 - online - wholesale, online, wholesale];
        let mut channel_mix = [[0.0; 6]; 3];
        for ch in Channel::ALL {
            if channel_share[ch.idx()] > 0.0 {
                let row = &mut channel_mix[ch.idx()];
                for c in Category::ALL {
                    row[c.idx()] = mix[c.idx()] * CHANNEL_AFFINITY[ch.idx()][c.idx()];
                }
                let sum: f64 = row.iter().sum();
                row.iter_mut().for_each(|x| *x /= sum);
            }
        }

        let sunday_closed = r.random_bool(0.45);
        let monday_closed = !sunday_closed && r.random_bool(0.25);
        let price_level = r.random_range(0.85..1.25);
        let basket = r.random_range(0.85..1.2);
        let wholesale_customers = r.random_range(2..=12);
        let z: f64 = StandardNormal.sample(r);
        let growth = (0.02 + 0.04 * z).clamp(-0.08, 0.12);

        // Cost ratios as independent bakeries report them: most firms near
        // the typical value, a few far off (own stream, so that the draws
        // below stay as they were for every seed).
        let mut k = rng_for(seed, id as u64, Stream::Kpi);
        let normal = |k: &mut ChaCha8Rng, mean: f64, sd: f64, lo: f64, hi: f64| -> f64 {
            let z: f64 = StandardNormal.sample(k);
            (mean + sd * z).clamp(lo, hi)
        };
        let _ = r.random_range(0.29..0.39);
        let cogs_share = normal(&mut k, 0.32, 0.045, 0.20, 0.46);
        let _ = r.random_range(0.06..0.11);
        let rent_share = (0.08 * noise(&mut k, 0.3)).clamp(0.03, 0.2);
        let rent_monthly = annual_revenue * rent_share / 12.0;
        let rent_cents = (rent_monthly / 10.0).round() as i64 * 1000;
        let rent_invoiced = r.random_bool(0.4);
        let landlord = pick(r, &LANDLORDS);
        let _ = r.random_range(0.28..0.38);
        let wage_share = normal(&mut k, 0.33, 0.045, 0.2, 0.48);
        let split_payroll = r.random_bool(0.5);
        let energy_share = r.random_range(0.03..0.055);
        let energy_supplier = pick(r, &ENERGY);

        let mut cogs_suppliers = vec![
            (pick(r, &MILLS), 0.35, if big { 2 } else { 1 }),
            (pick(r, &DAIRIES), 0.20, 1),
            (pick(r, &WHOLESALERS), 0.25, if big { 2 } else { 1 }),
        ];
        for extra in EXTRAS {
            if r.random_bool(0.5) {
                cogs_suppliers.push((extra, 0.06, 1));
            }
        }
        if mix[Category::Drinks.idx()] > 0.0 {
            cogs_suppliers.push((pick(r, &COFFEE), 0.08, 1));
        }
        for sup in cogs_suppliers.iter_mut() {
            sup.1 *= noise(r, 0.25);
        }
        let total: f64 = cogs_suppliers.iter().map(|s| s.1).sum();
        cogs_suppliers.iter_mut().for_each(|s| s.1 /= total);

        let mut firm = Firm {
            annual_revenue,
            channel_share,
            channel_mix,
            sunday_closed,
            monday_closed,
            price_level,
            basket,
            wholesale_customers,
            growth,
            base: [0.0; 3],
            reference,
            cogs_share,
            rent_cents,
            rent_invoiced,
            landlord,
            wage_share,
            split_payroll,
            energy_share,
            energy_supplier,
            cogs_suppliers,
        };
        firm.calibrate();
        firm
    }

    /// Sets `base` so that expected revenue over the reference year equals `annual_revenue`.
    fn calibrate(&mut self) {
        let mut weight = [0.0f64; 3];
        for i in 0..365 {
            let d = self.reference + Days::new(i);
            if self.closed(d) {
                continue;
            }
            for ch in Channel::ALL {
                weight[ch.idx()] += self.calendar_weight(d, ch);
            }
        }
        for ch in Channel::ALL {
            let w = weight[ch.idx()];
            self.base[ch.idx()] = if w > 0.0 {
                self.annual_revenue * self.channel_share[ch.idx()] / w
            } else {
                0.0
            };
        }
    }

    /// Calendar weight of channel `ch` on `d`, summed over the channel's categories.
    fn calendar_weight(&self, d: NaiveDate, ch: Channel) -> f64 {
        let mix = &self.channel_mix[ch.idx()];
        let cats: f64 = Category::ALL
            .iter()
            .map(|&c| mix[c.idx()] * season::category_factor(d, c))
            .sum();
        season::day_factor(d, ch) * cats
    }

    /// Whether the firm is closed on `d`.
    pub(crate) fn closed(&self, d: NaiveDate) -> bool {
        season::closed(d, self.sunday_closed, self.monday_closed)
    }

    /// Expected net revenue (EUR) of one category in one channel on an open day `d`.
    pub(crate) fn expected(&self, d: NaiveDate, ch: Channel, cat: Category) -> f64 {
        let years = (d - self.reference).num_days() as f64 / 365.25;
        self.base[ch.idx()]
            * self.channel_mix[ch.idx()][cat.idx()]
            * season::day_factor(d, ch)
            * season::category_factor(d, cat)
            * (1.0 + self.growth).powf(years)
    }

    /// Typical unit price (EUR) of `cat` sold through `ch` by this firm.
    pub(crate) fn unit_price(&self, ch: Channel, cat: Category) -> f64 {
        PRICE[cat.idx()] * CHANNEL_PRICE[ch.idx()][cat.idx()] * self.price_level
    }
}

/// Uniform choice from a non-empty table.
pub(crate) fn pick<R: Rng + ?Sized, T: Copy>(rng: &mut R, table: &[T]) -> T {
    table[rng.random_range(0..table.len())]
}
