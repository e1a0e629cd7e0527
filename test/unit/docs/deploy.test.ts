import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoverPipelines } from '#infra/discoverPipelines';

const ROOT = path.resolve(__dirname, '../../..');

describe('docs/deploy.md', () => {
  it('names exactly the pipelines infra/app.ts deploys', () => {
    // GIVEN the sentence that lists them, "(today `a`, `b`; …)"
    const text = fs.readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8').replace(/\s+/g, ' ');
    const listed = /\(today ([^;)]*)/.exec(text)?.[1] ?? '';
    const named = [...listed.matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort();

    // WHEN the app's discovery runs
    const deployed = discoverPipelines(ROOT).pipelines.map((p) => p.definition.name);

    // THEN
    expect(named).toEqual([...deployed].sort());
  });
});
