// One environment of Substation: the bucket, the history table, the four Rust Lambdas, the
// bulk-upload state machine, and what operators and uploaders need to see it work.
//
// Dependency order (CloudFormation must not see a cycle): the bucket's notification needs the
// trigger, the trigger needs the state machine's ARN, and the state machine and the Lambdas need
// the bucket. So everything refers to the bucket by its deterministic *name* (stage, account,
// region), never by a Ref; and the state machine's role names its own child executions from the
// state machine's name, not its ARN.
import {
  Aws,
  CfnOutput,
  CfnRule,
  Fn,
  Duration,
  Size,
  RemovalPolicy,
  Stack,
  StackProps,
  Tags,
  Annotations,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { Artifacts } from './artifacts';
import { ConfigError, Definition, FUNCTIONS, FunctionName, SharedConfig, Stage, stageOf } from './config';

export interface SubstationStackProps extends StackProps {
  /** `dev`, `staging`, `prod`: a key of config/stages.json's `stages`. */
  readonly stage: string;
  readonly config: SharedConfig;
  readonly definition: Definition;
  readonly artifacts: Artifacts;
  /** Subscribed to the alarm topic, if given (`-c alarmEmail=...`). */
  readonly alarmEmail?: string;
  /** Subscribed to the run-notification topic, if given (`-c notifyEmail=...`). */
  readonly notifyEmail?: string;
}

const FUNCTION_PURPOSE: Record<FunctionName, string> = {
  trigger: 'Starts a bulk-upload execution for each workbook dropped under the upload prefix',
  parse: 'Reads and validates the workbook; writes the asset items and rejected rows',
  diagnose: 'Diagnoses one batch of assets (DGA) for the Distributed Map, or one asset on demand, against its stored history',
  aggregate: 'Reconciles the Map results and persists summary, diagnoses, rejected rows and report',
};

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export class SubstationStack extends Stack {
  readonly stageConfig: Stage;
  readonly functions: Record<FunctionName, lambda.Function>;
  readonly roles: Record<FunctionName, iam.Role>;
  readonly bucket: s3.Bucket;
  readonly accessLogBucket?: s3.Bucket;
  /** Each asset's DGA history across uploads (partition key `asset_id`). */
  readonly historyTable: dynamodb.Table;
  /** Attach to a caller's role (a backend, an inspection app) to let it invoke the diagnose
   * Lambda synchronously for one asset. */
  readonly diagnoseOnDemandPolicy: iam.ManagedPolicy;
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineRole: iam.Role;
  readonly triggerFailures: sqs.Queue;
  readonly alarmTopic: sns.Topic;
  readonly notificationTopic: sns.Topic;
  /** The bucket's name and ARN as strings built from stage, account and region (no Ref). */
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: SubstationStackProps) {
    super(scope, id, props);
    // Access logs are delivered under a bucket policy, not the LogDeliveryWrite ACL (ACLs stay
    // disabled on both buckets). Set on the stack so the CLI and the tests build the same thing.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const { config, definition } = props;
    const stage = stageOf(config, props.stage);
    this.stageConfig = stage;
    const d = stage.deployment;
    const prefix = `substation-${props.stage}`;
    const removalPolicy = d.retain_data ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const retention = d.log_retention_days as logs.RetentionDays;
    Tags.of(this).add('Project', 'Substation');
    Tags.of(this).add('Stage', props.stage);

    this.bucketName = `${prefix}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    this.bucketArn = `arn:${Aws.PARTITION}:s3:::${this.bucketName}`;
    this.stateMachineName = `${prefix}-bulk-upload`;
    const objects = (keyPattern: string) => `${this.bucketArn}/${keyPattern}`;
    // cdk-nag's IAM5 finding for a wildcard object key, as it prints the bucket's ARN.
    const acknowledgeKeys = (scope: Construct, keyPattern: string, reason: string) =>
      Validations.of(scope).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${prefix}-<AWS::AccountId>-<AWS::Region>/${keyPattern}]`,
        reason,
      });
    const runs = config.runs_prefix;
    const layout = config.run_layout;

    // ---- Lambdas: one role each, with exactly the actions its step performs ----
    const functions = {} as Record<FunctionName, lambda.Function>;
    const roles = {} as Record<FunctionName, iam.Role>;
    for (const fn of FUNCTIONS) {
      const name = `${prefix}-${fn}`;
      const id = pascal(fn);
      const logGroup = new logs.LogGroup(this, `${id}Logs`, {
        logGroupName: `/aws/lambda/${name}`,
        retention,
        removalPolicy,
      });
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${name}: ${FUNCTION_PURPOSE[fn]}`,
      });
      // Its own log group only (the managed AWSLambdaBasicExecutionRole allows every group).
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'WriteOwnLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      );
      const settings = stage.lambdas[fn];
      const placeholder = props.artifacts.placeholders.includes(fn);
      // The stage's `log_level` is a tracing level; Lambda's names are the same in capitals.
      const logLevel = lambda.ApplicationLogLevel[stage.log_level.toUpperCase() as keyof typeof lambda.ApplicationLogLevel];
      if (!logLevel) throw new ConfigError(`stages.${props.stage}.log_level '${stage.log_level}' is not a log level`);
      const f = new lambda.Function(this, id, {
        functionName: name,
        description: placeholder
          ? `PLACEHOLDER CODE, NOT DEPLOYABLE (target/lambda/${fn}/bootstrap.zip was not built) - ${FUNCTION_PURPOSE[fn]}`
          : FUNCTION_PURPOSE[fn],
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.X86_64,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(props.artifacts.paths[fn]),
        memorySize: settings.memory_mb,
        timeout: Duration.seconds(settings.timeout_seconds),
        ephemeralStorageSize: settings.ephemeral_storage_mb ? Size.mebibytes(settings.ephemeral_storage_mb) : undefined,
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        applicationLogLevelV2: logLevel,
        systemLogLevelV2: lambda.SystemLogLevel.INFO,
        tracing: lambda.Tracing.ACTIVE,
        environment: {
          STAGE: props.stage,
          ...(fn === 'trigger' ? {} : { BUCKET_NAME: this.bucketName }),
        },
      });
      if (placeholder) {
        Annotations.of(f).addWarningV2(
          'substation:placeholder-artifact',
          `placeholder code: target/lambda/${fn}/bootstrap.zip is not built; this template cannot be deployed`,
        );
      }
      // Lambda's X-Ray integration needs these two actions, which take no resource (X-Ray has
      // no resource-level permissions); CDK adds them for Tracing.ACTIVE.
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions (active tracing)',
      });
      functions[fn] = f;
      roles[fn] = role;
    }
    this.functions = functions;
    this.roles = roles;
    if (props.artifacts.placeholders.length > 0) {
      // Whatever deploys this template (a plain `cdk deploy` too), CloudFormation refuses it
      // before creating anything: this assertion is false by construction.
      new CfnRule(this, 'RefusePlaceholderCode', {
        assertions: [
          {
            assert: Fn.conditionEquals('placeholder-code', 'built-code'),
            assertDescription: `Synthesized with placeholder Lambda code (${props.artifacts.placeholders.join(', ')}): build the artifacts (npm run build-artifacts in cdk/) and synthesize again`,
          },
        ],
      });
    }

    // parse: reads the upload, by the version the event named (the bucket is versioned: a second
    // upload of the same name must not be read by the first run), writes runs/<run>/.
    roles.parse.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadUploads',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [objects(`${config.upload_prefix}*`)],
      }),
    );
    roles.parse.addToPolicy(
      // Large items files go up as multipart uploads (PutObject covers their parts; an upload
      // that fails is aborted, and the lifecycle rule removes any left).
      new iam.PolicyStatement({
        sid: 'WriteRuns',
        actions: ['s3:AbortMultipartUpload', 's3:PutObject'],
        resources: [objects(`${runs}*`)],
      }),
    );
    // A workbook deleted before it was parsed must read as NoSuchKey (404, `ObjectNotFound`), not
    // AccessDenied (403, retried as `StorageUnavailable`): S3 answers 404 only to a caller that
    // may list. Scoped by prefix; whether S3 honours the s3:prefix condition for that decision
    // is UNCONFIRMED (the flow treats both answers as errors, only the name differs).
    roles.parse.addToPolicy(this.listUnder('ListUploads', [config.upload_prefix]));
    acknowledgeKeys(roles.parse, `${config.upload_prefix}*`, 'parse reads whichever workbook the upload event names; scoped to the upload prefix');
    acknowledgeKeys(roles.parse, `${runs}*`, 'parse writes runs/<run id>/ for a run id it derives at run time; scoped to the runs prefix');

    // diagnose: writes two files per batch (lines and digests) under runs/<run>/diagnoses/;
    // reads nothing.
    roles.diagnose.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteBatchDiagnoses',
        actions: ['s3:PutObject'],
        resources: [objects(`${runs}*/${layout.diagnoses}*`)],
      }),
    );
    acknowledgeKeys(roles.diagnose, `${runs}*/${layout.diagnoses}*`, 'diagnose writes runs/<run id>/diagnoses/<batch>.jsonl for run and batch ids known at run time only');

    // ---- The history table: one item per asset (its stored samples), read and written by
    // diagnose alone. The Lambdas know its name from the embedded configuration (by STAGE).
    const history = stage.history;
    this.historyTable = new dynamodb.Table(this, 'History', {
      tableName: history.table_name,
      partitionKey: { name: 'asset_id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // The AWS managed key aws/dynamodb (the bucket, likewise, uses S3's own encryption): no key
      // policy to keep, no kms: action for the Lambda.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: history.point_in_time_recovery },
      deletionProtection: history.deletion_protection,
      removalPolicy,
    });
    if (!history.point_in_time_recovery) {
      Validations.of(this.historyTable).acknowledge({
        id: 'AwsSolutions-DDB3',
        reason: `stage ${props.stage} sets history.point_in_time_recovery=false in config/stages.json (continuous backups are a per-stage choice, on where the history matters)`,
      });
    }
    // Read an asset's record (one, or a batch's), write it back (conditionally, put or update).
    // No Query, Scan or Delete; no index exists.
    roles.diagnose.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteAssetHistory',
        actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [this.historyTable.tableArn],
      }),
    );

    // ---- One asset on demand: a backend or an inspection app invokes diagnose synchronously.
    // Whoever may do so is given this policy (attached to nothing here); the function's ARN only,
    // no alias or version.
    this.diagnoseOnDemandPolicy = new iam.ManagedPolicy(this, 'DiagnoseOnDemand', {
      managedPolicyName: `${prefix}-diagnose-on-demand`,
      description: `Lets its holder invoke ${prefix}-diagnose for one asset on demand`,
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeDiagnose',
          actions: ['lambda:InvokeFunction'],
          resources: [functions.diagnose.functionArn],
        }),
      ],
    });

    // aggregate: reads runs/ (items, rejected rows, ResultWriter files, batch files), lists the
    // ResultWriter and batch folders, writes results/ (diagnoses.jsonl as a multipart upload).
    roles.aggregate.addToPolicy(
      new iam.PolicyStatement({ sid: 'ReadRuns', actions: ['s3:GetObject'], resources: [objects(`${runs}*`)] }),
    );
    roles.aggregate.addToPolicy(this.listUnder('ListRuns', [runs]));
    roles.aggregate.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteResults',
        actions: ['s3:AbortMultipartUpload', 's3:PutObject'],
        resources: [objects(`${config.results_prefix}*`)],
      }),
    );
    acknowledgeKeys(roles.aggregate, `${runs}*`, 'aggregate reads runs/<run id>/ (items, rejected rows, Map results) for run ids known at run time only');
    acknowledgeKeys(roles.aggregate, `${config.results_prefix}*`, 'aggregate writes results/<run id>/ for run ids known at run time only');

    // ---- The bucket ----
    if (d.bucket_access_logging) {
      this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
        bucketName: `${prefix}-access-logs-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(d.log_retention_days) }],
        removalPolicy,
      });
    }
    this.bucket = new s3.Bucket(this, 'Data', {
      bucketName: this.bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: this.accessLogBucket ? 'data/' : undefined,
      lifecycleRules: [
        {
          id: 'expire-run-intermediates',
          prefix: runs,
          expiration: Duration.days(d.runs_expiration_days),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(d.noncurrent_version_expiration_days),
        },
        // The ResultWriter and large uploads use multipart uploads; never keep orphaned parts.
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
    if (!this.accessLogBucket) {
      Validations.of(this.bucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason: `stage ${props.stage} sets deployment.bucket_access_logging=false in config/stages.json (CloudTrail data events remain available)`,
      });
    }

    // The upload notification, set on the bucket itself (not through CDK's notification custom
    // resource, which would add a Node.js Lambda with a managed policy): S3 checks the trigger's
    // permission when the configuration is written, hence the explicit dependency.
    const invokePermission = new lambda.CfnPermission(this, 'S3InvokesTrigger', {
      action: 'lambda:InvokeFunction',
      functionName: functions.trigger.functionArn,
      principal: 's3.amazonaws.com',
      sourceArn: this.bucketArn,
      sourceAccount: Aws.ACCOUNT_ID,
    });
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = {
      lambdaConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          function: functions.trigger.functionArn,
          // S3 filters are case-sensitive, so the extension is checked by the trigger (it
          // ignores non-workbooks), only the prefix here.
          filter: { s3Key: { rules: [{ name: 'prefix', value: config.upload_prefix }] } },
        },
      ],
    };
    cfnBucket.addResourceDependency(invokePermission);

    // ---- The trigger's failure queue: S3 invokes asynchronously and drops an event after two
    // retries; the event lands here instead, to be replayed (README, "Replay a dropped upload").
    this.triggerFailures = new sqs.Queue(this, 'TriggerFailures', {
      queueName: `${prefix}-trigger-failures`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    Validations.of(this.triggerFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'this queue is itself the dead-letter destination of the trigger; nothing consumes it automatically',
    });
    const queueArn = this.triggerFailures.queueArn;
    new lambda.EventInvokeConfig(this, 'TriggerAsyncInvoke', {
      function: functions.trigger,
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      // Not lambda-destinations' SqsDestination: it grants sqs:GetQueueAttributes and
      // sqs:GetQueueUrl too, and Lambda needs only sqs:SendMessage.
      onFailure: { bind: () => ({ destination: queueArn }) },
    });
    roles.trigger.addToPolicy(
      new iam.PolicyStatement({ sid: 'SendFailedEvents', actions: ['sqs:SendMessage'], resources: [queueArn] }),
    );

    // ---- The state machine ----
    const labels = definition.distributedMapLabels;
    if (labels.length === 0) throw new ConfigError('the state machine definition has no Distributed Map');
    const smArnPrefix = `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}`;
    const role = new iam.Role(this, 'StateMachineRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `${this.stateMachineName}: invokes the Substation Lambdas and runs the Distributed Map`,
    });
    this.stateMachineRole = role;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeSteps',
        actions: ['lambda:InvokeFunction'],
        resources: [functions.parse.functionArn, functions.diagnose.functionArn, functions.aggregate.functionArn],
      }),
    );
    // ItemReader: runs/<run>/assets.jsonl. ResultWriter: runs/<run>/map/<map run>/… (the actions
    // AWS lists for ResultWriter, shared/reference/aws-step-functions.md 1.5).
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ItemReader',
        actions: ['s3:GetObject'],
        resources: [objects(`${runs}*/${layout.assets}`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ResultWriter',
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
        resources: [objects(`${runs}*/${layout.map_results}/*`)],
      }),
    );
    // The Distributed Map's children: started on this state machine, described/stopped (and
    // redriven, on a Map Run redrive) as `execution:<name>/<Label>:<id>`. Built from the name:
    // the state machine's ARN would make its role depend on it.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'StartMapChildren',
        actions: ['states:StartExecution'],
        resources: [`${smArnPrefix}:stateMachine:${this.stateMachineName}`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ManageMapChildren',
        actions: ['states:DescribeExecution', 'states:RedriveExecution', 'states:StopExecution'],
        resources: labels.map((l) => `${smArnPrefix}:execution:${this.stateMachineName}/${l}:*`),
      }),
    );

    const values: Record<string, string> = {
      ParseFunctionArn: functions.parse.functionArn,
      DiagnoseFunctionArn: functions.diagnose.functionArn,
      AggregateFunctionArn: functions.aggregate.functionArn,
      BucketName: this.bucketName,
    };
    const definitionSubstitutions = substitutionsFor(config, definition, values);

    const smLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch's resource policy under its size limit
      // (reference 5.1).
      logGroupName: `/aws/vendedlogs/states/${this.stateMachineName}`,
      retention,
      removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'BulkUpload', {
      stateMachineName: this.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `Substation ${props.stage}: parse a DGA workbook, diagnose every asset, persist the results`,
      // fromString, not fromFile: the definition stays in the template, where tests and the
      // console diff can read it.
      definitionBody: sfn.DefinitionBody.fromString(definition.text),
      definitionSubstitutions,
      role,
      logs: {
        destination: smLogs,
        level: sfn.LogLevel[d.state_machine_log_level],
        includeExecutionData: true,
      },
      tracingEnabled: true,
      removalPolicy,
    });
    // CDK adds these for logging and tracing; AWS documents them on `*` (reference 5.1, 5.2).
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs delivery (logs:*LogDelivery*, resource policies) and X-Ray actions support no resource-level permissions',
    });
    acknowledgeKeys(role, `${runs}*/${layout.assets}`, 'the ItemReader reads runs/<run id>/assets.jsonl for a run id known at run time only');
    acknowledgeKeys(role, `${runs}*/${layout.map_results}/*`, 'the ResultWriter writes runs/<run id>/map/<map run id>/ files named by Step Functions');
    for (const l of labels) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${this.stateMachineName}/${l}:*]`,
        reason: 'Distributed Map child executions are named by Step Functions at run time (execution:<state machine>/<Label>:<id>)',
      });
    }
    if (d.state_machine_log_level !== 'ALL') {
      Validations.of(this.stateMachine).acknowledge({
        id: 'AwsSolutions-SF1',
        reason: `stage ${props.stage} logs ${d.state_machine_log_level} events (deployment.state_machine_log_level); every execution's full history stays in the console for 90 days`,
      });
    }

    // The trigger may start executions of this state machine and nothing else.
    roles.trigger.addToPolicy(
      new iam.PolicyStatement({
        sid: 'StartBulkUpload',
        actions: ['states:StartExecution'],
        resources: [this.stateMachine.stateMachineArn],
      }),
    );
    functions.trigger.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);

    // ---- Operations: alarms to operators, run notifications to uploaders ----
    const topicKey = new kms.Key(this, 'TopicKey', {
      alias: `alias/${prefix}-topics`,
      description: `${prefix}: encrypts the alarm and run-notification topics`,
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch alarms and EventBridge publish to encrypted topics only with a customer key
    // that lets them use it.
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      topicKey.grant(new iam.ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey');
    }
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      topicName: `${prefix}-alarms`,
      displayName: `Substation ${props.stage} alarms`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    this.notificationTopic = new sns.Topic(this, 'RunNotifications', {
      topicName: `${prefix}-run-notifications`,
      displayName: `Substation ${props.stage} runs`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    // enforceSSL gives each topic a resource policy, which replaces SNS's default one: CloudWatch
    // may publish to the alarm topic only with an explicit allow (EventBridge's allow on the
    // run-notification topic is added by its target), limited to this stage's alarms.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${prefix}-*` },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    if (props.notifyEmail) {
      this.notificationTopic.addSubscription(new subscriptions.EmailSubscription(props.notifyEmail));
    }

    const alarmAction = new cwActions.SnsAction(this.alarmTopic);
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, id, {
        alarmName: `${prefix}-${id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(alarmAction);
      return a;
    };
    const period = Duration.minutes(5);
    alarm(
      'ExecutionsFailed',
      this.stateMachine.metricFailed({ period, statistic: 'Sum' }),
      `A ${this.stateMachineName} execution failed. A rejected workbook (WorkbookInvalid, InputTooLarge) also fails its execution and is reported to the uploader; anything else needs a look: open the execution and its error; a failed Parse or Aggregate can be redriven once the cause is fixed, an incomplete diagnosis (DiagnosisIncomplete) is re-run by uploading the workbook again (README, Operating).`,
    );
    alarm(
      'ExecutionsTimedOut',
      this.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
      `A ${this.stateMachineName} execution timed out.`,
    );
    for (const fn of FUNCTIONS) {
      const id = pascal(fn);
      alarm(
        `${id}Errors`,
        functions[fn].metricErrors({ period, statistic: 'Sum' }),
        `${prefix}-${fn} returned errors (see its log group; the state machine retries transient ones).`,
      );
      alarm(
        `${id}Throttles`,
        functions[fn].metricThrottles({ period, statistic: 'Sum' }),
        `${prefix}-${fn} was throttled: check the account's Lambda concurrency against the Map's max_concurrency.`,
      );
    }
    alarm(
      'TriggerFailuresQueued',
      this.triggerFailures.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      `An upload event could not start a run and is waiting in ${prefix}-trigger-failures: fix the cause, then replay it (README, "Replay a dropped upload").`,
    );

    // Uploaders: one message per finished run, with the run id and where the results are.
    const run = events.EventField.fromPath('$.detail.name');
    const results = `s3://${this.bucketName}/${config.results_prefix}${run}/`;
    new events.Rule(this, 'RunFinished', {
      ruleName: `${prefix}-run-finished`,
      description: `Tells uploaders when a ${this.stateMachineName} run finished or failed`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
        },
      },
      targets: [
        new targets.SnsTopic(this.notificationTopic, {
          message: events.RuleTargetInput.fromObject({
            stage: props.stage,
            run_id: run,
            status: events.EventField.fromPath('$.detail.status'),
            error: events.EventField.fromPath('$.detail.error'),
            cause: events.EventField.fromPath('$.detail.cause'),
            results,
            summary: `${results}${config.result_files.summary}`,
            report: `${results}${config.result_files.report}`,
            report_html: `${results}${config.result_files.report_html}`,
            execution: `https://${Aws.REGION}.console.aws.amazon.com/states/home?region=${Aws.REGION}#/v2/executions/details/${events.EventField.fromPath('$.detail.executionArn')}`,
          }),
        }),
      ],
    });

    // ---- Outputs ----
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: 'The data bucket' });
    new CfnOutput(this, 'UploadPrefix', {
      value: `s3://${this.bucketName}/${config.upload_prefix}`,
      description: `Drop workbooks here (${config.workbook_extensions.map((e) => `.${e}`).join(', ')})`,
    });
    new CfnOutput(this, 'ResultsPrefix', {
      value: `s3://${this.bucketName}/${config.results_prefix}`,
      description: `${config.results_prefix}<run id>/: ${Object.values(config.result_files).join(', ')}`,
    });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ExecutionsConsoleUrl', {
      value: `https://${Aws.REGION}.console.aws.amazon.com/states/home?region=${Aws.REGION}#/statemachines/view/${this.stateMachine.stateMachineArn}`,
      description: 'The executions (and their Map Runs) in the Step Functions console',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'RunNotificationTopicArn', { value: this.notificationTopic.topicArn });
    new CfnOutput(this, 'HistoryTableName', {
      value: this.historyTable.tableName,
      description: "Each asset's DGA history across uploads (partition key asset_id)",
    });
    new CfnOutput(this, 'DiagnoseFunctionName', {
      value: functions.diagnose.functionName,
      description: 'Invoke synchronously to diagnose one asset on demand',
    });
    new CfnOutput(this, 'DiagnoseOnDemandPolicyArn', {
      value: this.diagnoseOnDemandPolicy.managedPolicyArn,
      description: `Attach to the role of a caller that may invoke ${prefix}-diagnose on demand`,
    });
    new CfnOutput(this, 'TriggerFailureQueueUrl', {
      value: this.triggerFailures.queueUrl,
      description: 'Upload events the trigger could not handle, to replay',
    });
  }

  /** s3:ListBucket on the bucket, limited to keys under the given prefixes. */
  private listUnder(sid: string, prefixes: string[]): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      actions: ['s3:ListBucket'],
      resources: [this.bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
    });
  }
}

/** DefinitionSubstitutions for exactly the names config/stages.json lists: every name must have a
 * value here and be used by the definition, and the definition may use no other. */
export function substitutionsFor(
  config: SharedConfig,
  definition: Definition,
  values: Record<string, string>,
): Record<string, string> {
  const listed = [...config.substitutions].sort();
  const problems: string[] = [];
  for (const name of listed) {
    if (!(name in values)) problems.push(`config/stages.json lists '${name}' but the stack has no value for it`);
    if (!definition.placeholders.includes(name)) problems.push(`'${name}' is listed but the definition never uses \${${name}}`);
  }
  for (const name of definition.placeholders) {
    if (!listed.includes(name)) problems.push(`the definition uses \${${name}}, which config/stages.json does not list`);
  }
  if (problems.length > 0) throw new ConfigError(`definition substitutions: ${problems.join('; ')}`);
  return Object.fromEntries(listed.map((name) => [name, values[name]]));
}
