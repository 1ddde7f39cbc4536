/** Runs a zod schema over YAML data and turns its issues into ConfigIssues with lines and hints. */
import type { z } from 'zod';
import { type ConfigEnv, defaultConfigEnv } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { describeValue } from './fields.js';
import { type PathSegment, readYaml, type YamlSource } from './source.js';
import { didYouMean } from './suggest.js';

// biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definition tree
type AnyDef = any;

function unwrap(schema: AnyDef): AnyDef {
  let s = schema;
  for (let i = 0; i < 20 && s?._zod; i++) {
    const def = s._zod.def;
    if (
      ['optional', 'default', 'prefault', 'nullable', 'readonly', 'nonoptional', 'catch'].includes(
        def.type,
      )
    )
      s = def.innerType;
    else if (def.type === 'pipe') s = def.in?._zod?.def?.type === 'transform' ? def.out : def.in;
    else break;
  }
  return s;
}

/** Keys allowed in the mapping at `path`, for "did you mean". */
export function knownKeysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let s: AnyDef = unwrap(schema);
  for (const seg of path) {
    const def = s?._zod?.def;
    if (!def) return [];
    if (def.type === 'object' && typeof seg === 'string') s = unwrap(def.shape[seg]);
    else if (def.type === 'array' && typeof seg === 'number') s = unwrap(def.element);
    else return [];
  }
  const def = s?._zod?.def;
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

export function validate<T>(
  schema: z.ZodType<T>,
  src: YamlSource,
): { data: T | null; issues: ConfigIssue[] } {
  if (typeof src.data !== 'object' || src.data === null || Array.isArray(src.data)) {
    return {
      data: null,
      issues: [
        {
          path: '',
          message: `expected a mapping of keys at the top level, got ${describeValue(src.data)}`,
          line: 1,
        },
      ],
    };
  }
  const r = schema.safeParse(src.data);
  if (r.success) return { data: r.data, issues: [] };
  const issues: ConfigIssue[] = [];
  for (const iss of r.error.issues) {
    const path = iss.path as PathSegment[];
    if (iss.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, path);
      for (const key of iss.keys) {
        issues.push(
          src.issue(
            [...path, key],
            `unknown key${didYouMean(key, known) || (known.length ? `; expected one of ${known.join(', ')}` : '')}`,
          ),
        );
      }
    } else {
      issues.push(src.issue(path, iss.message));
    }
  }
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { data: null, issues };
}

/**
 * One file kind's text → its typed config: YAML, then the schema, then the kind's
 * builder (cross-field checks, defaults). Throws ConfigError naming file, line and field.
 */
export function parseConfigText<Y, C>(
  text: string,
  sourceName: string,
  schema: z.ZodType<Y>,
  build: (y: Y, src: YamlSource) => { cfg: C; issues: ConfigIssue[] },
): C {
  const src = readYaml(text, sourceName);
  const { data, issues } = validate(schema, src);
  if (data === null) throw new ConfigError(sourceName, issues);
  const built = build(data, src);
  if (built.issues.length > 0) throw new ConfigError(sourceName, built.issues);
  return built.cfg;
}

/** A file kind's builder: cross-field checks and defaults over the schema's output. */
export type ConfigBuilder<Y, C> = (
  y: Y,
  src: YamlSource,
  env: ConfigEnv,
) => { cfg: C; issues: ConfigIssue[] };

/**
 * The `parse…Config(text, sourceName, env?)` of one file kind (peer, server, gateway):
 * no file access; throws ConfigError listing every problem.
 */
export function configParser<Y, C>(
  schema: z.ZodType<Y>,
  build: ConfigBuilder<Y, C>,
): (text: string, sourceName: string, env?: ConfigEnv) => C {
  return (text, sourceName, env = defaultConfigEnv()) =>
    parseConfigText(text, sourceName, schema, (y, src) => build(y, src, env));
}

/** What a builder collects: problems (each fails the file) and warnings; `at` adds a problem at a YAML path. */
export function issueCollector(src: YamlSource): {
  issues: ConfigIssue[];
  warnings: string[];
  at: (path: PathSegment[], message: string) => void;
} {
  const issues: ConfigIssue[] = [];
  return { issues, warnings: [], at: (path, message) => issues.push(src.issue(path, message)) };
}
