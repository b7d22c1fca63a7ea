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

/// For tests of the commands: moto's server (`lambda::testing`) with a stage's stack on it, and
/// the crates their fixtures are built with.
#[doc(hidden)]
pub mod testing {
    pub use aws_sdk_s3;
    pub use lambda::StepFunctions;
    pub use lambda::testing::Moto;

    use crate::{Clients, Endpoints};

    /// The stack `Substation-dev` as the CDK app names things, in moto's default account.
    pub const BUCKET: &str = "substation-dev-123456789012-us-east-1";
    pub const STATE_MACHINE_ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:substation-dev-bulk-upload";
    pub const HISTORY_TABLE: &str = "substation-dev-history";

    /// moto's server and clients for it.
    #[derive(Debug)]
    pub struct MotoStack {
        pub moto: Moto,
        pub clients: Clients,
    }

    impl MotoStack {
        pub fn start() -> MotoStack {
            let moto = Moto::start();
            let e = moto.endpoint.clone();
            let endpoints = Endpoints { lambda: e.clone(), s3: e.clone(), sfn: e.clone(), dynamodb: e };
            MotoStack { clients: Clients::loopback(&endpoints, "substation-test"), moto }
        }

        /// Deploys the stack: its bucket (versioned), the state machine, and the CloudFormation
        /// stack whose outputs name them and the history table.
        pub async fn deploy(&self) {
            let c = &self.clients;
            c.s3.create_bucket().bucket(BUCKET).send().await.expect("the bucket");
            let on = aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build();
            c.s3.put_bucket_versioning().bucket(BUCKET).versioning_configuration(on).send().await.expect("versioning");
            let sm = c
                .sfn
                .create_state_machine()
                .name("substation-dev-bulk-upload")
                .definition(include_str!("../../../statemachine/bulk-upload.asl.json"))
                .role_arn("arn:aws:iam::123456789012:role/substation-dev-states")
                .send()
                .await
                .expect("the state machine");
            assert_eq!(sm.state_machine_arn(), STATE_MACHINE_ARN);
            let template = serde_json::json!({
                "Resources": {"Alarms": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {
                    "BucketName": {"Value": BUCKET},
                    "StateMachineArn": {"Value": STATE_MACHINE_ARN},
                    "HistoryTableName": {"Value": HISTORY_TABLE}
                }
            });
            c.cloudformation
                .create_stack()
                .stack_name("Substation-dev")
                .template_body(template.to_string())
                .send()
                .await
                .expect("the stack");
        }
    }
}
