/** YAML text → plain data, with a way back from a field path to its line. */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue, formatPath, type PathSegment } from './errors.js';
import { checkConfigText, yamlErrorIssues } from './yaml-diagnostics.js';

export { formatPath, type PathSegment };

export interface YamlSource {
  name: string;
  data: unknown;
  /** Best line for a path: the value's line, or the nearest enclosing key that exists. */
  lineOf(path: readonly PathSegment[]): number | undefined;
  issue(path: readonly PathSegment[], message: string): ConfigIssue;
}

/**
 * Parses YAML 1.2 (duplicate keys are errors); throws ConfigError on syntax errors
 * (see yaml-diagnostics.ts) and on text that is not a configuration at all.
 */
export function readYaml(text: string, name: string): YamlSource {
  const notText = checkConfigText(text);
  if (notText) throw new ConfigError(name, [notText]);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(name, yamlErrorIssues(doc, text, lc));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    // The alias name is the text after `*`: possibly an unquoted password starting with `*`. Not shown.
    const msg = (e as Error).message.replace(
      /^(Unresolved alias[^:]*):.*$/s,
      '$1 (a value starting with * is an alias: quote it)',
    );
    throw new ConfigError(name, [{ path: '', message: `YAML error: ${msg}` }]);
  }
  const lineAt = (node: { range?: [number, number, number] | null } | null | undefined) =>
    node?.range ? lc.linePos(node.range[0]).line : undefined;

  const lineOf = (path: readonly PathSegment[]): number | undefined => {
    let node: unknown = doc.contents;
    let line: number | undefined;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
        );
        if (!pair) return line;
        line = lineAt(pair.key as Node) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) return line;
        node = item;
        line = lineAt(item as Node) ?? line;
      } else return line;
    }
    // A scalar value's own line (a key's value may sit on the next line).
    if (isScalar(node)) line = lineAt(node) ?? line;
    return line;
  };
  return {
    name,
    data: data === null || data === undefined ? {} : data,
    lineOf,
    issue: (path, message) => ({ path: formatPath(path), message, line: lineOf(path) }),
  };
}
