// Loads a trace the way speedscope does when the file is dropped on its page (speedscope's own
// importer, see speedscope_importer.mjs) and reports its warnings ("Tried to end ... Doing
// nothing instead": a slice that does not nest) and how many slices became calls.
import { load_speedscope } from './speedscope_importer.mjs';

export async function speedscope_report(name, bytes) {
  const s = load_speedscope();
  const group = await s.import_file(name, bytes);
  if (!group) throw new Error(`${name}: speedscope did not recognise the file`);
  let calls = 0;
  const profiles = [];
  for (const p of group.profiles) {
    let n = 0;
    p.forEachCall(() => ++n, () => {});
    calls += n;
    profiles.push({ name: p.getName(), calls: n, weight: p.getTotalWeight() });
  }
  const warnings = s.messages.filter(m => m.level === 'warn' || m.level === 'error').map(m => m.text);
  return { importer: s.messages.find(m => m.level === 'log')?.text ?? null, profiles, calls, warnings };
}
