//! Monthly cost rows of one firm: rent, wages, energy, goods, marketing, other.

use chrono::{Datelike, Days, Months, NaiveDate};
use rand::Rng;

use crate::firm::{noise, pick, Firm, Supplier, MARKETING, OTHER, PAYROLL};
use crate::season::ENERGY_MONTH;
use crate::vocab::CostType;

/// Supplier "" without invoice numbers: net wages paid by bank transfer.
const NO_SUPPLIER: Supplier = Supplier { name: "", code: "" };

/// One row of `costs.csv`, amount in cents; `invoice` is a per-file sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CostRow {
    pub date: NaiveDate,
    pub cost_type: CostType,
    pub amount_cents: i64,
    pub supplier: Supplier,
    pub invoice: Option<u32>,
}

fn cents(eur: f64) -> i64 {
    ((eur * 100.0).round() as i64).max(1)
}

/// Cost rows for the `monthly_net_cents.len()` months from `start`, given each month's net sales.
pub(crate) fn firm_costs<R: Rng + ?Sized>(
    firm: &Firm,
    rng: &mut R,
    start: NaiveDate,
    monthly_net_cents: &[i64],
) -> Vec<CostRow> {
    let mut rows = Vec::new();
    let mut invoice_no = 0u32;
    // Marks a row as invoiced; numbers are assigned in date order once the month is sorted.
    let next_invoice = |present: bool| present.then_some(0);
    let avg_month = firm.annual_revenue / 12.0;
    for (m, &net) in monthly_net_cents.iter().enumerate() {
        let first = start + Months::new(m as u32);
        let last = first + Months::new(1) - Days::new(1);
        let days = last.day();
        let day = |d: u32| first + Days::new(u64::from(d.clamp(1, days) - 1));
        let sales = (net.max(0) as f64) / 100.0;
        let mut month = Vec::new();

        // Rent: fixed, on the first working days of the month.
        month.push(CostRow {
            date: day(if firm.rent_invoiced { 1 } else { 3 }),
            cost_type: CostType::Rent,
            amount_cents: firm.rent_cents,
            supplier: firm.landlord,
            invoice: next_invoice(firm.rent_invoiced),
        });

        // Wages: mostly fixed staff, plus temporary help in busy months.
        let wages = firm.wage_share * (0.8 * avg_month + 0.2 * sales) * noise(rng, 0.02);
        if firm.split_payroll {
            month.push(CostRow {
                date: last,
                cost_type: CostType::Wages,
                amount_cents: cents(wages * 0.79),
                supplier: NO_SUPPLIER,
                invoice: None,
            });
            month.push(CostRow {
                date: day(rng.random_range(25..=28)),
                cost_type: CostType::Wages,
                amount_cents: cents(wages * 0.21),
                supplier: PAYROLL,
                invoice: next_invoice(true),
            });
        } else {
            month.push(CostRow {
                date: last,
                cost_type: CostType::Wages,
                amount_cents: cents(wages),
                supplier: NO_SUPPLIER,
                invoice: None,
            });
        }

        // Energy: ovens all year, heating in winter.
        let energy = firm.energy_share
            * avg_month
            * ENERGY_MONTH[first.month0() as usize]
            * noise(rng, 0.05);
        month.push(CostRow {
            date: day(rng.random_range(5..=20)),
            cost_type: CostType::Energy,
            amount_cents: cents(energy),
            supplier: firm.energy_supplier,
            invoice: next_invoice(true),
        });

        // Goods: supplier invoices summing to the firm's share of this month's sales.
        let share = (firm.cogs_share * noise(rng, 0.03)).clamp(0.18, 0.48);
        let total = sales * share;
        let mut parts: Vec<(Supplier, f64)> = Vec::new();
        for &(supplier, weight, deliveries) in &firm.cogs_suppliers {
            for _ in 0..deliveries {
                parts.push((supplier, weight / f64::from(deliveries) * noise(rng, 0.15)));
            }
        }
        let sum: f64 = parts.iter().map(|p| p.1).sum();
        let mut target = (total * 100.0).round() as i64;
        let n = parts.len();
        for (i, (supplier, weight)) in parts.into_iter().enumerate() {
            // The last invoice takes the rounding remainder so the month sums exactly.
            let amount = if i + 1 == n {
                target
            } else {
                ((total * weight / sum) * 100.0).round() as i64
            };
            target -= amount;
            if amount > 0 {
                month.push(CostRow {
                    date: day(rng.random_range(1..=days)),
                    cost_type: CostType::Cogs,
                    amount_cents: amount,
                    supplier,
                    invoice: next_invoice(!rng.random_bool(0.03)),
                });
            }
        }

        // Marketing: 0–2 small invoices.
        let count = match rng.random_range(0..10) {
            0..=3 => 0,
            4..=7 => 1,
            _ => 2,
        };
        for _ in 0..count {
            let amount = firm.annual_revenue * rng.random_range(0.0005..0.003);
            month.push(CostRow {
                date: day(rng.random_range(1..=days)),
                cost_type: CostType::Marketing,
                amount_cents: cents(amount),
                supplier: pick(rng, &MARKETING),
                invoice: next_invoice(true),
            });
        }

        // Other: 0–2 rows (insurance, accounting, repairs, bank fees, cash purchases).
        let count = match rng.random_range(0..10) {
            0..=2 => 0,
            3..=7 => 1,
            _ => 2,
        };
        for _ in 0..count {
            let size = (firm.annual_revenue / 400_000.0).sqrt();
            let amount = rng.random_range(40f64.ln()..1500f64.ln()).exp() * size;
            let supplier = pick(rng, &OTHER);
            month.push(CostRow {
                date: day(rng.random_range(1..=days)),
                cost_type: CostType::Other,
                amount_cents: cents(amount),
                supplier,
                invoice: next_invoice(!supplier.name.is_empty()),
            });
        }

        month.sort_by_key(|r| (r.date, r.cost_type));
        for n in month.iter_mut().filter_map(|r| r.invoice.as_mut()) {
            invoice_no += 1;
            *n = invoice_no;
        }
        rows.extend(month);
    }
    rows
}
