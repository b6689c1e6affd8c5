//! The contracts between the pipeline stages: plain data, serde, no I/O.

mod event;
mod failure;
mod finding;
mod outcome;
mod page;

pub use event::CrawlEvent;
pub use failure::FailureKind;
pub use finding::{AuditFinding, Finding, Severity};
pub use outcome::{Attempt, Outcome, RedirectHop, ResponseMeta, Timings};
pub(crate) use page::LeanFacts;
pub use page::{
    Accessibility, CanonicalTag, Directive, Heading, HreflangTag, ImageTag, Link, LinkKind,
    LinkKindId, MAX_HEADINGS, MAX_IMAGES, PageDetail, PageFacts, Structure, TextFacts,
};
