// The synthesized template of every stage, checked against what the stack must be (written here,
// not snapshotted from what was generated).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Aws } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { MissingArtifactsError, resolveArtifacts } from '../lib/artifacts';
import { ConfigError, FUNCTIONS } from '../lib/config';
import {
  CONFIG,
  STAGES,
  allow,
  bucketArn,
  emptyDir,
  logicalId,
  roleStatements,
  sortStatements,
  synthStage,
} from './helpers';

it('the configuration has the three environments', () => {
  assert.deepEqual(STAGES, ['dev', 'prod', 'staging']);
});

for (const stage of STAGES) {
  describe(`stage ${stage}`, () => {
    const { stack, template } = synthStage(stage);
    const s = CONFIG.stages[stage];
    const d = s.deployment;
    const json = template.toJSON();
    const id = (c: { node: any }) => logicalId(stack, c);
    const ref = (c: { node: any }) => ({ Ref: id(c) });
    const arnOf = (c: { node: any }) => ({ 'Fn::GetAtt': [id(c), 'Arn'] });
    const prefix = `substation-${stage}`;
    const runs = CONFIG.runs_prefix;
    const layout = CONFIG.run_layout;

    it('the data bucket is private, encrypted, versioned, TLS-only, with lifecycle rules', () => {
      template.hasResource('AWS::S3::Bucket', {
        Properties: Match.objectLike({
          BucketName: stack.resolve(`${prefix}-${Aws.ACCOUNT_ID}-${Aws.REGION}`),
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
          },
          VersioningConfiguration: { Status: 'Enabled' },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
          LifecycleConfiguration: {
            Rules: Match.arrayWith([
              Match.objectLike({ Prefix: runs, ExpirationInDays: d.runs_expiration_days, Status: 'Enabled' }),
              Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: d.noncurrent_version_expiration_days } }),
              Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
            ]),
          },
        }),
        DeletionPolicy: d.retain_data ? 'Retain' : 'Delete',
        UpdateReplacePolicy: d.retain_data ? 'Retain' : 'Delete',
      });
      const policy = Object.values<any>(template.findResources('AWS::S3::BucketPolicy')).find(
        (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify(ref(stack.bucket)),
      );
      assert.ok(policy, 'the data bucket has a bucket policy');
      const statements = policy.Properties.PolicyDocument.Statement;
      assert.ok(
        statements.some(
          (st: any) =>
            st.Effect === 'Deny' && JSON.stringify(st.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
        ),
        'plain-HTTP requests are denied',
      );
      assert.ok(
        statements.some((st: any) => st.Effect === 'Deny' && st.Condition?.NumericLessThan?.['s3:TlsVersion'] === 1.2),
        'TLS below 1.2 is denied',
      );
    });

    it(`access logging is ${d.bucket_access_logging ? 'on' : 'off'}, as the stage asks`, () => {
      const data = json.Resources[id(stack.bucket)].Properties;
      if (d.bucket_access_logging) {
        assert.ok(stack.accessLogBucket);
        assert.deepEqual(data.LoggingConfiguration, {
          DestinationBucketName: ref(stack.accessLogBucket),
          LogFilePrefix: 'data/',
        });
        template.hasResourceProperties('AWS::S3::Bucket', {
          BucketName: stack.resolve(`${prefix}-access-logs-${Aws.ACCOUNT_ID}-${Aws.REGION}`),
          PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
          BucketEncryption: Match.anyValue(),
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        });
        template.resourceCountIs('AWS::S3::Bucket', 2);
      } else {
        assert.equal(data.LoggingConfiguration, undefined);
        template.resourceCountIs('AWS::S3::Bucket', 1);
      }
    });

    it('uploads under the upload prefix notify the trigger, which S3 may invoke', () => {
      const data = json.Resources[id(stack.bucket)];
      assert.deepEqual(data.Properties.NotificationConfiguration, {
        LambdaConfigurations: [
          {
            Event: 's3:ObjectCreated:*',
            Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: CONFIG.upload_prefix }] } },
            Function: arnOf(stack.functions.trigger),
          },
        ],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf(stack.functions.trigger),
        Principal: 's3.amazonaws.com',
        SourceArn: bucketArn(stack, stage),
        SourceAccount: { Ref: 'AWS::AccountId' },
      });
      // S3 checks the permission when the notification is written.
      assert.ok(data.DependsOn.some((dep: string) => json.Resources[dep].Type === 'AWS::Lambda::Permission'));
      // No notification custom resource (a Node.js Lambda) in the stack.
      template.resourceCountIs('Custom::S3BucketNotifications', 0);
      template.resourceCountIs('AWS::Lambda::Function', 4);
    });

    for (const fn of FUNCTIONS) {
      it(`the ${fn} Lambda: provided.al2023, x86_64, sized from the configuration, traced, JSON logs`, () => {
        const f = stack.functions[fn];
        const props = json.Resources[id(f)].Properties;
        assert.equal(props.FunctionName, `${prefix}-${fn}`);
        assert.equal(props.Runtime, 'provided.al2023');
        assert.deepEqual(props.Architectures, ['x86_64']);
        assert.equal(props.Handler, 'bootstrap');
        assert.equal(props.MemorySize, s.lambdas[fn].memory_mb);
        assert.equal(props.Timeout, s.lambdas[fn].timeout_seconds);
        // /tmp as configured (the aggregate spills the report's rows there), else Lambda's 512 MB.
        assert.deepEqual(props.EphemeralStorage, s.lambdas[fn].ephemeral_storage_mb ? { Size: s.lambdas[fn].ephemeral_storage_mb } : undefined);
        assert.deepEqual(props.TracingConfig, { Mode: 'Active' });
        assert.equal(props.LoggingConfig.LogFormat, 'JSON');
        assert.equal(props.LoggingConfig.ApplicationLogLevel, s.log_level.toUpperCase());
        const logGroup = json.Resources[props.LoggingConfig.LogGroup.Ref];
        assert.equal(logGroup.Properties.LogGroupName, `/aws/lambda/${prefix}-${fn}`);
        assert.equal(logGroup.Properties.RetentionInDays, d.log_retention_days);
        assert.equal(logGroup.DeletionPolicy, d.retain_data ? 'Retain' : 'Delete');
        assert.equal(props.Environment.Variables.STAGE, stage);
        if (fn === 'trigger') {
          assert.deepEqual(props.Environment.Variables.STATE_MACHINE_ARN, ref(stack.stateMachine));
        } else {
          assert.deepEqual(
            props.Environment.Variables.BUCKET_NAME,
            stack.resolve(`${prefix}-${Aws.ACCOUNT_ID}-${Aws.REGION}`),
          );
        }
      });
    }

    // ---- IAM: each role's exact statements ----
    const logsOf = (fn: (typeof FUNCTIONS)[number]) =>
      allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [
        { 'Fn::GetAtt': [json.Resources[id(stack.functions[fn])].Properties.LoggingConfig.LogGroup.Ref, 'Arn'] },
      ]);
    const xray = allow(['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], ['*']);
    const expected: Record<string, () => unknown[]> = {
      trigger: () => [
        logsOf('trigger'),
        xray,
        allow(['sqs:SendMessage'], [arnOf(stack.triggerFailures)]),
        allow(['states:StartExecution'], [ref(stack.stateMachine)]),
      ],
      parse: () => [
        logsOf('parse'),
        xray,
        // GetObjectVersion: parse reads the upload by the event's version id (issue 14).
        allow(['s3:GetObject', 's3:GetObjectVersion'], [bucketArn(stack, stage, `${CONFIG.upload_prefix}*`)]),
        // The items file goes up as a multipart upload when large.
        allow(['s3:AbortMultipartUpload', 's3:PutObject'], [bucketArn(stack, stage, `${runs}*`)]),
        allow(['s3:ListBucket'], [bucketArn(stack, stage)], {
          StringLike: { 's3:prefix': [`${CONFIG.upload_prefix}*`] },
        }),
      ],
      diagnose: () => [
        logsOf('diagnose'),
        xray,
        allow(['s3:PutObject'], [bucketArn(stack, stage, `${runs}*/${layout.diagnoses}*`)]),
        // Each asset's record in the history table: read (one or a batch's), written back. The
        // table's ARN only: no index, no other table, no Query, Scan or Delete.
        allow(
          ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          [arnOf(stack.historyTable)],
        ),
      ],
      aggregate: () => [
        logsOf('aggregate'),
        xray,
        allow(['s3:GetObject'], [bucketArn(stack, stage, `${runs}*`)]),
        allow(['s3:ListBucket'], [bucketArn(stack, stage)], { StringLike: { 's3:prefix': [`${runs}*`] } }),
        // diagnoses.jsonl goes up as a multipart upload.
        allow(['s3:AbortMultipartUpload', 's3:PutObject'], [bucketArn(stack, stage, `${CONFIG.results_prefix}*`)]),
      ],
    };
    for (const fn of FUNCTIONS) {
      it(`the ${fn} role has exactly the actions its step needs`, () => {
        assert.deepEqual(
          roleStatements(template, id(stack.roles[fn])),
          sortStatements(expected[fn]() as any),
        );
      });
    }

    it('the state machine role invokes exactly the three step Lambdas and reaches only its prefixes', () => {
      const states = `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}`;
      assert.deepEqual(
        roleStatements(template, id(stack.stateMachineRole)),
        sortStatements([
          allow(['lambda:InvokeFunction'], [
            arnOf(stack.functions.parse),
            arnOf(stack.functions.diagnose),
            arnOf(stack.functions.aggregate),
          ]),
          allow(['s3:GetObject'], [bucketArn(stack, stage, `${runs}*/${layout.assets}`)]),
          allow(
            ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
            [bucketArn(stack, stage, `${runs}*/${layout.map_results}/*`)],
          ),
          allow(['states:StartExecution'], [stack.resolve(`${states}:stateMachine:${prefix}-bulk-upload`)]),
          allow(
            ['states:DescribeExecution', 'states:RedriveExecution', 'states:StopExecution'],
            [stack.resolve(`${states}:execution:${prefix}-bulk-upload/DiagnoseAssets:*`)],
          ),
          // Logging to CloudWatch and X-Ray tracing: AWS documents these on `*` (reference 5.1, 5.2).
          allow(
            [
              'logs:CreateLogDelivery',
              'logs:DeleteLogDelivery',
              'logs:DescribeLogGroups',
              'logs:DescribeResourcePolicies',
              'logs:GetLogDelivery',
              'logs:ListLogDeliveries',
              'logs:PutResourcePolicy',
              'logs:UpdateLogDelivery',
            ],
            ['*'],
          ),
          allow(
            ['xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
            ['*'],
          ),
        ] as any),
      );
    });

    it('only the diagnose role reaches DynamoDB, and no policy in the stack names another table', () => {
      const roles = Object.keys(template.findResources('AWS::IAM::Role'));
      const withDynamo = roles.filter((roleId) =>
        roleStatements(template, roleId).some((st) => st.Action.some((a) => a.toLowerCase().startsWith('dynamodb:'))),
      );
      assert.deepEqual(withDynamo, [id(stack.roles.diagnose)]);
      for (const fn of FUNCTIONS.filter((f) => f !== 'diagnose')) {
        for (const st of roleStatements(template, id(stack.roles[fn]))) {
          assert.ok(!st.Action.some((a) => a.toLowerCase().startsWith('dynamodb:')), `${fn}: ${st.Action}`);
        }
      }
      // Every DynamoDB statement anywhere (inline, attached or managed policies) is the one above.
      const docs = [
        ...Object.values<any>(template.findResources('AWS::IAM::Policy')).map((r) => r.Properties.PolicyDocument),
        ...Object.values<any>(template.findResources('AWS::IAM::ManagedPolicy')).map((r) => r.Properties.PolicyDocument),
        ...Object.values<any>(template.findResources('AWS::IAM::Role')).flatMap((r) =>
          (r.Properties.Policies ?? []).map((x: any) => x.PolicyDocument),
        ),
      ];
      const dynamo = sortStatements(docs.flatMap((doc) => doc.Statement)).filter((st) =>
        st.Action.some((a) => a.toLowerCase().startsWith('dynamodb:')),
      );
      assert.deepEqual(dynamo, [
        allow(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [
          arnOf(stack.historyTable),
        ]),
      ]);
    });

    it('the on-demand policy allows exactly invoking the diagnose function, and is attached to nothing', () => {
      const policies = template.findResources('AWS::IAM::ManagedPolicy');
      assert.deepEqual(Object.keys(policies), [id(stack.diagnoseOnDemandPolicy)]);
      const props = policies[id(stack.diagnoseOnDemandPolicy)].Properties;
      assert.equal(props.ManagedPolicyName, `${prefix}-diagnose-on-demand`);
      assert.equal(props.Roles, undefined);
      assert.equal(props.Users, undefined);
      assert.equal(props.Groups, undefined);
      assert.deepEqual(props.PolicyDocument, {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'InvokeDiagnose',
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            // The function's ARN only: no alias or version (`:*`), no other function.
            Resource: arnOf(stack.functions.diagnose),
          },
        ],
      });
    });

    it('no role anywhere has a wildcard action or a managed policy', () => {
      const roles = template.findResources('AWS::IAM::Role');
      assert.equal(Object.keys(roles).length, 5);
      for (const roleId of Object.keys(roles)) {
        for (const st of roleStatements(template, roleId)) {
          for (const action of st.Action) assert.ok(!action.includes('*'), `${roleId}: ${action}`);
          assert.equal(st.Effect, 'Allow');
        }
      }
    });

    // ---- The history table ----
    it(`the history table: ${s.history.table_name}, keyed by asset_id, on demand, encrypted, PITR ${s.history.point_in_time_recovery ? 'on' : 'off'}, deletion protection ${s.history.deletion_protection ? 'on' : 'off'}`, () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
      const table = json.Resources[id(stack.historyTable)];
      assert.equal(table.Type, 'AWS::DynamoDB::Table');
      assert.deepEqual(table.Properties, {
        TableName: s.history.table_name,
        KeySchema: [{ AttributeName: 'asset_id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'asset_id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        // The AWS managed key (aws/dynamodb).
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: s.history.point_in_time_recovery },
        DeletionProtectionEnabled: s.history.deletion_protection,
        Tags: [
          { Key: 'Project', Value: 'Substation' },
          { Key: 'Stage', Value: stage },
        ],
      });
      assert.equal(table.DeletionPolicy, d.retain_data ? 'Retain' : 'Delete');
      assert.equal(table.UpdateReplacePolicy, d.retain_data ? 'Retain' : 'Delete');
    });

    it('the Lambdas are not told the table: they read its name from the embedded configuration by STAGE', () => {
      for (const fn of FUNCTIONS) {
        const vars = json.Resources[id(stack.functions[fn])].Properties.Environment.Variables;
        assert.equal(vars.STAGE, stage);
        assert.ok(!JSON.stringify(vars).includes(id(stack.historyTable)), fn);
        assert.ok(!JSON.stringify(vars).includes(s.history.table_name), fn);
      }
    });

    // ---- The state machine ----
    it('the state machine is STANDARD, from the ASL file, with every configured substitution', () => {
      const sm = json.Resources[id(stack.stateMachine)].Properties;
      assert.equal(sm.StateMachineType, 'STANDARD');
      assert.equal(sm.StateMachineName, `${prefix}-bulk-upload`);
      assert.deepEqual(sm.RoleArn, arnOf(stack.stateMachineRole));
      assert.equal(typeof sm.DefinitionString, 'string', 'the definition is inlined, not an S3 asset');
      // Exactly the names the configuration lists, each with its value.
      assert.deepEqual(Object.keys(sm.DefinitionSubstitutions).sort(), [...CONFIG.substitutions].sort());
      assert.deepEqual(sm.DefinitionSubstitutions, {
        ParseFunctionArn: arnOf(stack.functions.parse),
        DiagnoseFunctionArn: arnOf(stack.functions.diagnose),
        AggregateFunctionArn: arnOf(stack.functions.aggregate),
        BucketName: stack.resolve(`${prefix}-${Aws.ACCOUNT_ID}-${Aws.REGION}`),
      });
      // After substitution no placeholder is left.
      const substituted = (sm.DefinitionString as string).replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name) => {
        assert.ok(name in sm.DefinitionSubstitutions, `\${${name}} has no substitution`);
        return `<${name}>`;
      });
      const asl = JSON.parse(substituted);
      const map = asl.States.DiagnoseAssets;
      assert.equal(map.Type, 'Map');
      assert.deepEqual(map.ItemProcessor.ProcessorConfig, { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' });
      assert.equal(map.ItemReader.Resource, 'arn:aws:states:::s3:getObject');
      assert.equal(map.ItemReader.ReaderConfig.InputType, 'JSONL');
      assert.equal(map.ItemReader.Parameters.Bucket, '<BucketName>');
      assert.ok(map.ItemBatcher.MaxItemsPerBatchPath && map.ItemBatcher.MaxInputBytesPerBatchPath);
      assert.equal(map.ResultWriter.Resource, 'arn:aws:states:::s3:putObject');
      assert.equal(map.ResultWriter.Parameters.Bucket, '<BucketName>');
      assert.equal(map.ItemProcessor.States.DiagnoseBatch.Parameters.FunctionName, '<DiagnoseFunctionArn>');
      assert.equal(asl.States.ParseWorkbook.Parameters.FunctionName, '<ParseFunctionArn>');
      assert.equal(asl.States.Aggregate.Parameters.FunctionName, '<AggregateFunctionArn>');
    });

    it(`the state machine logs ${d.state_machine_log_level} to /aws/vendedlogs/states/ and is traced`, () => {
      const sm = json.Resources[id(stack.stateMachine)].Properties;
      assert.deepEqual(sm.TracingConfiguration, { Enabled: true });
      assert.equal(sm.LoggingConfiguration.Level, d.state_machine_log_level);
      assert.equal(sm.LoggingConfiguration.IncludeExecutionData, true);
      const groupId = sm.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
      const group = json.Resources[groupId].Properties;
      assert.equal(group.LogGroupName, `/aws/vendedlogs/states/${prefix}-bulk-upload`);
      assert.equal(group.RetentionInDays, d.log_retention_days);
    });

    // ---- Operations ----
    it('a dropped upload event lands in an encrypted queue after two retries', () => {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: ref(stack.functions.trigger),
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: arnOf(stack.triggerFailures) } },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `${prefix}-trigger-failures`,
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
    });

    it('alarms on failed and timed-out runs, Lambda errors and throttles, and dropped uploads', () => {
      const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
      const seen = alarms.map((a) => {
        assert.deepEqual(a.AlarmActions, [ref(stack.alarmTopic)], a.AlarmName);
        assert.equal(a.Threshold, 1);
        assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
        assert.equal(a.TreatMissingData, 'notBreaching');
        return JSON.stringify([a.Namespace, a.MetricName, a.Dimensions]);
      });
      const want = [
        ['AWS/States', 'ExecutionsFailed', [{ Name: 'StateMachineArn', Value: ref(stack.stateMachine) }]],
        ['AWS/States', 'ExecutionsTimedOut', [{ Name: 'StateMachineArn', Value: ref(stack.stateMachine) }]],
        ...FUNCTIONS.flatMap((fn) => [
          ['AWS/Lambda', 'Errors', [{ Name: 'FunctionName', Value: ref(stack.functions[fn]) }]],
          ['AWS/Lambda', 'Throttles', [{ Name: 'FunctionName', Value: ref(stack.functions[fn]) }]],
        ]),
        [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(stack.triggerFailures), 'QueueName'] } }],
        ],
      ].map((x) => JSON.stringify(x));
      assert.deepEqual(seen.sort(), want.sort());
      for (const a of alarms) assert.match(a.AlarmName, new RegExp(`^${prefix}-`));
      // The topic's policy (written because of enforceSSL) lets this stage's alarms publish.
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [ref(stack.alarmTopic)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'CloudWatchAlarmsPublish',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: ref(stack.alarmTopic),
              Condition: {
                ArnLike: {
                  'aws:SourceArn': stack.resolve(
                    `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${prefix}-*`,
                  ),
                },
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              },
            },
          ]),
        },
      });
    });

    it('uploaders are told when a run ends, with the run id and where the results are', () => {
      const rules = Object.values<any>(template.findResources('AWS::Events::Rule')).map((r) => r.Properties);
      assert.equal(rules.length, 1);
      const rule = rules[0];
      assert.deepEqual(rule.EventPattern, {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [ref(stack.stateMachine)], status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] },
      });
      const target = rule.Targets[0];
      assert.deepEqual(target.Arn, ref(stack.notificationTopic));
      const paths = target.InputTransformer.InputPathsMap;
      const runVar = Object.keys(paths).find((k) => paths[k] === '$.detail.name');
      assert.ok(runVar, 'the execution name (the run id) is in the message');
      const template_ = JSON.stringify(target.InputTransformer.InputTemplate);
      assert.ok(template_.includes(`"run_id\\":<${runVar}>`), template_);
      assert.ok(template_.includes(`/${CONFIG.results_prefix}<${runVar}>/${CONFIG.result_files.summary}`), template_);
      assert.ok(template_.includes(`/${CONFIG.results_prefix}<${runVar}>/${CONFIG.result_files.report}`), template_);
      assert.ok(Object.values(paths).includes('$.detail.status'));
      // The topic takes EventBridge's messages; its key lets EventBridge and CloudWatch use it.
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [ref(stack.notificationTopic)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } }),
          ]),
        },
      });
      const [keyId, keyResource] = Object.entries<any>(template.findResources('AWS::KMS::Key'))[0];
      const key = keyResource.Properties;
      assert.equal(key.EnableKeyRotation, true);
      for (const service of ['events.amazonaws.com', 'cloudwatch.amazonaws.com']) {
        assert.ok(
          key.KeyPolicy.Statement.some(
            (st: any) =>
              st.Principal?.Service === service &&
              JSON.stringify([...st.Action].sort()) === JSON.stringify(['kms:Decrypt', 'kms:GenerateDataKey']),
          ),
          service,
        );
      }
      for (const topic of [stack.alarmTopic, stack.notificationTopic]) {
        assert.deepEqual(json.Resources[id(topic)].Properties.KmsMasterKeyId, { 'Fn::GetAtt': [keyId, 'Arn'] });
      }
    });

    it('outputs the bucket, the upload prefix, the state machine and a console link', () => {
      template.hasOutput('BucketName', { Value: ref(stack.bucket) });
      template.hasOutput('UploadPrefix', {
        Value: stack.resolve(`s3://${prefix}-${Aws.ACCOUNT_ID}-${Aws.REGION}/${CONFIG.upload_prefix}`),
      });
      template.hasOutput('StateMachineArn', { Value: ref(stack.stateMachine) });
      template.hasOutput('ExecutionsConsoleUrl', {
        Value: stack.resolve(
          `https://${Aws.REGION}.console.aws.amazon.com/states/home?region=${Aws.REGION}#/statemachines/view/${stack.stateMachine.stateMachineArn}`,
        ),
      });
      template.hasOutput('TriggerFailureQueueUrl', { Value: ref(stack.triggerFailures) });
      template.hasOutput('RunNotificationTopicArn', { Value: ref(stack.notificationTopic) });
    });

    it('outputs the history table, the diagnose function and its on-demand policy', () => {
      template.hasOutput('HistoryTableName', { Value: ref(stack.historyTable) });
      template.hasOutput('DiagnoseFunctionName', { Value: ref(stack.functions.diagnose) });
      template.hasOutput('DiagnoseOnDemandPolicyArn', { Value: ref(stack.diagnoseOnDemandPolicy) });
      // Ref of a named table is its name, of a function its name, of a managed policy its ARN.
      assert.equal(json.Resources[id(stack.historyTable)].Properties.TableName, s.history.table_name);
      assert.equal(json.Resources[id(stack.functions.diagnose)].Properties.FunctionName, `${prefix}-diagnose`);
      assert.equal(json.Resources[id(stack.diagnoseOnDemandPolicy)].Type, 'AWS::IAM::ManagedPolicy');
      assert.deepEqual(
        Object.keys(json.Outputs).sort(),
        [
          'AlarmTopicArn',
          'BucketName',
          'DiagnoseFunctionName',
          'DiagnoseOnDemandPolicyArn',
          'ExecutionsConsoleUrl',
          'HistoryTableName',
          'ResultsPrefix',
          'RunNotificationTopicArn',
          'StateMachineArn',
          'TriggerFailureQueueUrl',
          'UploadPrefix',
        ],
      );
    });
  });
}

describe('artifacts', () => {
  it('missing zips synthesize with marked placeholders, a warning, and a rule CloudFormation refuses', () => {
    const { stack, template } = synthStage('dev', { artifacts: resolveArtifacts('optional', emptyDir()) });
    const rule = template.toJSON().Rules.RefusePlaceholderCode;
    assert.deepEqual(rule.Assertions[0].Assert, { 'Fn::Equals': ['placeholder-code', 'built-code'] });
    assert.match(rule.Assertions[0].AssertDescription, /placeholder Lambda code \(trigger, parse, diagnose, aggregate\)/);
    for (const fn of FUNCTIONS) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `substation-dev-${fn}`,
        Description: Match.stringLikeRegexp('^PLACEHOLDER CODE, NOT DEPLOYABLE'),
      });
      Annotations.fromStack(stack).hasWarning(
        `/Substation-dev/${fn.charAt(0).toUpperCase()}${fn.slice(1)}`,
        Match.stringLikeRegexp('placeholder code'),
      );
    }
  });

  it('built zips are used as they are, without a placeholder mark', () => {
    const { stack, template } = synthStage('dev');
    for (const fn of FUNCTIONS) {
      const props = template.toJSON().Resources[logicalId(stack, stack.functions[fn])].Properties;
      assert.ok(!props.Description.includes('PLACEHOLDER'));
      assert.match(props.Code.S3Key, /\.zip$/);
    }
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('placeholder'));
    assert.equal(template.toJSON().Rules?.RefusePlaceholderCode, undefined);
  });

  it('the deploy path refuses placeholders, naming the missing zips and the build command', () => {
    const dir = emptyDir();
    assert.throws(
      () => resolveArtifacts('required', dir),
      (e: Error) =>
        e instanceof MissingArtifactsError &&
        e.message.includes(`${dir}/parse/bootstrap.zip`) &&
        e.message.includes('cargo lambda build --release --locked --target x86_64-unknown-linux-gnu.2.34 --output-format zip'),
    );
  });
});

describe('substitutions', () => {
  it('a name the configuration lists but the stack cannot fill fails the synth', () => {
    const config = { ...CONFIG, substitutions: [...CONFIG.substitutions, 'ReportTopicArn'] };
    assert.throws(() => synthStage('dev', { config }), (e: Error) => e instanceof ConfigError && /ReportTopicArn/.test(e.message));
  });

  it('a name the definition uses but the configuration does not list fails the synth', () => {
    const config = { ...CONFIG, substitutions: CONFIG.substitutions.filter((n) => n !== 'BucketName') };
    assert.throws(
      () => synthStage('dev', { config }),
      (e: Error) => e instanceof ConfigError && /\$\{BucketName\}.*does not list/.test(e.message),
    );
  });
});

describe('subscriptions', () => {
  it('-c alarmEmail / notifyEmail subscribe those addresses', () => {
    const { stack, template } = synthStage('dev', { alarmEmail: 'ops@example.com', notifyEmail: 'engineers@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalId(stack, stack.alarmTopic) },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'engineers@example.com',
      TopicArn: { Ref: logicalId(stack, stack.notificationTopic) },
    });
  });

  it('without them, no subscription is created', () => {
    synthStage('dev').template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
