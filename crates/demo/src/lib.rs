//! A realistic demo county, seeded through the real command path.
//!
//! Five units (two towns, two parks, a department), sixty projects across every stage and kind over
//! last year and this year — fluorochemicals, new energy, new materials and more; central SOE,
//! provincial SOE, private and foreign investors — with annual plans, monthly reports and a few
//! corrections, expropriation, supervision items with close-outs and an accountability record,
//! targets for both years, and some projects red and yellow.
//!
//! Every command goes through [`commands::CommandHandler`], so the demo obeys every rule. Dates are
//! placed relative to "today" (last year and this year), never in the future. Identifiers and
//! idempotency keys are derived from fixed names, so seeding twice writes nothing the second time.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod county;
mod uscc;

pub use county::{Summary, seed};

/// Why the demo could not be seeded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A command of the demo was refused or could not be stored.
    #[error("demo command {what} on {stream}: {source}")]
    Command {
        stream: String,
        what: String,
        // Boxed: a command error carries a whole domain error, and every fn here returns this.
        #[source]
        source: Box<commands::CommandError>,
    },
    /// A value of the demo's own making was invalid (a bug in the demo, reported, not panicked).
    #[error("demo value {0} is invalid")]
    Value(String),
}
