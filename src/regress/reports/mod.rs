//! The files a regression run leaves for people and CI: `report.json`, the self-contained
//! `report.html`, JUnit XML, the failure pictures, and the summary table printed at the end.

mod html;
mod images;
mod junit;
mod summary;
mod write;

pub use html::report_html;
pub use images::{Side, failure_images, write_failure_images};
pub use junit::junit_xml;
pub use summary::summary_table;
pub use write::write_reports;
