#!/usr/bin/env node
// The CDK app: `npx cdk synth -c stage=dev` (or staging, prod). Stages, sizes and names come from
// config/stages.json; account and region from the CLI's environment.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ArtifactMode, resolveArtifacts } from '../lib/artifacts';
import { loadConfig, loadDefinition, stageOf } from '../lib/config';
import { SubstationStack } from '../lib/substation-stack';

const app = new App();
const stage = app.node.tryGetContext('stage') as string | undefined;
const config = loadConfig();
stageOf(config, stage); // a missing or unknown stage stops here, listing the known ones

const mode = (app.node.tryGetContext('artifacts') ?? 'optional') as ArtifactMode;
if (mode !== 'optional' && mode !== 'required') {
  throw new Error(`-c artifacts=${mode}: expected 'optional' or 'required'`);
}
const artifacts = resolveArtifacts(mode, app.node.tryGetContext('artifactsDir'));
if (artifacts.placeholders.length > 0) {
  console.error(
    `substation: PLACEHOLDER Lambda code for ${artifacts.placeholders.join(', ')} ` +
      `(${artifacts.dir}/<function>/bootstrap.zip not built). This template is for review only; ` +
      `'npm run deploy -- -c stage=${stage}' builds the artifacts and refuses placeholders.`,
  );
}

new SubstationStack(app, `Substation-${stage}`, {
  stage: stage!,
  config,
  definition: loadDefinition(),
  artifacts,
  alarmEmail: app.node.tryGetContext('alarmEmail'),
  notifyEmail: app.node.tryGetContext('notifyEmail'),
  description: `Substation (${stage}): DGA diagnosis of a transformer fleet from uploaded workbooks`,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  terminationProtection: config.stages[stage!].deployment.retain_data,
});

// cdk-nag's AWS Solutions pack: an unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
