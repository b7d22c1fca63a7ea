//! The CLI's AWS side, behind the `aws` feature of `substation` (the README's main job builds
//! without the AWS SDK):
//! - [`rehearsal`]: `substation run FILE --lambda-endpoint … --s3-endpoint … --bucket …`, the
//!   deployed shape on loopback with the real Lambda binaries;
//! - [`deployed`]: `substation submit / status / redrive --stage …` against a deployed stack.

pub mod clients;
pub mod deployed;
pub mod invoke;
pub mod rehearsal;
pub mod storage;

pub use clients::{Clients, Endpoints};
pub use lambda::DynamoHistory;

/// For tests of the commands: moto's server (`lambda::testing`), and the crates their
/// fixtures are built with.
#[doc(hidden)]
pub mod testing {
    pub use aws_sdk_s3;
    pub use lambda::StepFunctions;
    pub use lambda::testing::Moto;
}
