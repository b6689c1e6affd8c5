//! Why a 5xx happened: which layer answered (this module's [`fingerprint`])
//! and, from the evidence, the probable cause in the categories of
//! ../shared/DIAGNOSIS.md.

mod cause;
mod fingerprint;

pub use cause::{Diagnosis, Evidence, diagnose, explain};
pub use fingerprint::{Fingerprint, Generated, Layer, fingerprint};
