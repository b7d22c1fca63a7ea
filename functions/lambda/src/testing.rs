//! For tests of the AWS adapters: moto's server (`moto[server]` from PyPI) on a free loopback
//! port, a real S3 / DynamoDB protocol implementation, and clients configured for it with test
//! credentials. No AWS account or network beyond loopback. `scripts/test` installs moto; a test
//! fails, not skips, without it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto's server, stopped when dropped.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts the server and waits until it listens (30 s at most).
    pub fn start() -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs moto's server: pip install \"moto[server]\"");
        let mut moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto's server exited ({status}): is moto[server] installed? (pip install \"moto[server]\")");
            }
            assert!(Instant::now() < deadline, "moto's server did not listen within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// moto accepts any credentials: these name themselves as test ones (one type for both SDKs:
    /// aws-credential-types, re-exported).
    fn credentials() -> aws_sdk_s3::config::Credentials {
        aws_sdk_s3::config::Credentials::new("AKIDSUBSTATIONTEST", "substation-test-secret", None, None, "test")
    }

    /// An S3 client for the server (path-style addressing).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .credentials_provider(Moto::credentials())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// A DynamoDB client for the server.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version_latest()
            .credentials_provider(Moto::credentials())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// Creates the history table as the CDK app does (key `asset_id`, on-demand).
    pub async fn history_table(&self, name: &str) -> aws_sdk_dynamodb::Client {
        let client = self.dynamodb();
        crate::DynamoHistory::create_table(&client, name).await.expect("moto creates the history table");
        client
    }
}
