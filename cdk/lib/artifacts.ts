// Where the Lambda code comes from: the zips `cargo lambda build --release --target
// x86_64-unknown-linux-gnu.2.34 --output-format zip` writes to target/lambda/<function>/, or, for
// a synth on a clean clone, a clearly marked placeholder that the deploy path refuses.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { FUNCTIONS, FunctionName, repoRoot } from './config';

/** `optional`: synth with placeholders where a zip is missing (and say so);
 * `required`: refuse to synthesize unless every zip is there (the deploy path). */
export type ArtifactMode = 'optional' | 'required';

export const BUILD_COMMAND =
  'cargo lambda build --release --locked --target x86_64-unknown-linux-gnu.2.34 --output-format zip ' +
  FUNCTIONS.map((f) => `-p ${f}`).join(' ');

export interface Artifacts {
  /** The zip or the placeholder folder to upload as each function's code. */
  readonly paths: Record<FunctionName, string>;
  /** The functions that got the placeholder. */
  readonly placeholders: FunctionName[];
  readonly dir: string;
}

export class MissingArtifactsError extends Error {}

/** The placeholder: a `bootstrap` that fails every invocation with an explanation. */
export function placeholderDir(): string {
  return path.join(repoRoot(), 'cdk', 'placeholder');
}

export function defaultArtifactDir(): string {
  return path.join(repoRoot(), 'target', 'lambda');
}

export function resolveArtifacts(mode: ArtifactMode, dir: string = defaultArtifactDir()): Artifacts {
  const paths = {} as Record<FunctionName, string>;
  const placeholders: FunctionName[] = [];
  for (const fn of FUNCTIONS) {
    const zip = path.join(dir, fn, 'bootstrap.zip');
    if (existsSync(zip)) {
      paths[fn] = zip;
    } else {
      paths[fn] = placeholderDir();
      placeholders.push(fn);
    }
  }
  if (mode === 'required' && placeholders.length > 0) {
    throw new MissingArtifactsError(
      `refusing to deploy placeholder Lambda code: ${placeholders
        .map((f) => path.join(dir, f, 'bootstrap.zip'))
        .join(', ')} not built. Build them from the repository root with:\n  ${BUILD_COMMAND}\n` +
        `(or run 'npm run deploy -- -c stage=<name>' in cdk/, which builds them first)`,
    );
  }
  return { paths, placeholders, dir };
}
