//! The AWS clients of the CLI's AWS commands: from the standard chain (environment, profile,
//! SSO cache, instance role) for a deployed stack, or pointed at servers on loopback with test
//! credentials for the rehearsal.

use aws_config::{AppName, BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};

/// One client per service the commands use.
#[derive(Debug, Clone)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
}

/// Where the servers of a rehearsal listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The Lambda Invoke API (`cargo lambda watch`: `http://127.0.0.1:9000`).
    pub lambda: String,
    /// S3 (moto's server, which also answers Step Functions and DynamoDB on the same port).
    pub s3: String,
    /// Step Functions, for the trigger's StartExecution (default: the S3 endpoint).
    pub sfn: String,
    /// DynamoDB, for the history table (default: the S3 endpoint).
    pub dynamodb: String,
}

/// The user agent's app of the CLI's own requests in a rehearsal (the upload, the set-up, the
/// download of the results): not part of a deployed run.
pub const CLI_APP: &str = "substation-cli";
/// The user agent's app of the requests Step Functions itself makes in a deployed run (the
/// Distributed Map's ItemReader and ResultWriter), which the engine makes in a rehearsal.
pub const STATES_APP: &str = "substation-states";

/// The region of a rehearsal: moto's default, and what `scripts/rehearse` gives the binaries.
pub const REHEARSAL_REGION: &str = "us-east-1";

impl Clients {
    fn of(config: &SdkConfig, endpoints: Option<&Endpoints>) -> Clients {
        let s3 = aws_sdk_s3::config::Builder::from(config);
        let s3 = match endpoints {
            // Path-style: a loopback server has no bucket subdomains.
            Some(e) => s3.endpoint_url(&e.s3).force_path_style(true),
            None => s3,
        };
        let sfn = aws_sdk_sfn::config::Builder::from(config);
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(config);
        let lambda = aws_sdk_lambda::config::Builder::from(config);
        let cloudformation = aws_sdk_cloudformation::config::Builder::from(config);
        let (sfn, dynamodb, lambda, cloudformation) = match endpoints {
            // CloudFormation on loopback: moto's, where Step Functions is.
            Some(e) => (
                sfn.endpoint_url(&e.sfn),
                dynamodb.endpoint_url(&e.dynamodb),
                lambda.endpoint_url(&e.lambda),
                cloudformation.endpoint_url(&e.sfn),
            ),
            None => (sfn, dynamodb, lambda, cloudformation),
        };
        Clients {
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            sfn: aws_sdk_sfn::Client::from_conf(sfn.build()),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
            lambda: aws_sdk_lambda::Client::from_conf(lambda.build()),
            cloudformation: aws_sdk_cloudformation::Client::from_conf(cloudformation.build()),
        }
    }

    /// For a deployed stack: credentials and region from the standard AWS chain.
    pub async fn from_env() -> Clients {
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Clients::of(&config, None)
    }

    /// For servers on loopback: test credentials (an emulator accepts any; real ones are never
    /// sent to it) in `us-east-1`. `app` goes into every request's user agent (`app/<app>`), so
    /// a server's request log tells whose request it was.
    pub fn loopback(endpoints: &Endpoints, app: &'static str) -> Clients {
        let credentials = Credentials::new("AKIDSUBSTATIONTEST", "substation-test-secret", None, None, "rehearsal");
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REHEARSAL_REGION))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .app_name(AppName::new(app).expect("a valid app name"))
            .build();
        Clients::of(&config, Some(endpoints))
    }
}
