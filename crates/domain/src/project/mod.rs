//! The project aggregate (stream `project-<uuid>`).

mod commands;
mod decide;
mod events;
mod state;

pub use commands::ProjectCommand;
pub use decide::{decide, report_window};
pub use events::*;
pub use state::{AnnualPlan, MonthFigures, Project, ProjectStage, apply};
