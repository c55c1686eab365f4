// Loads speedscope's own importer (the code that runs when a file is dropped on the page) from the
// pinned npm package's browser bundle, without a browser: the bundle is evaluated in a VM context
// whose last statement (rendering the app into document.body) is replaced by handing us the
// import module. Everything the importer prints (console.warn "Tried to end ...") is captured.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function bundle_path() {
  const dir = path.join(path.dirname(require.resolve('speedscope/package.json')), 'dist', 'release');
  const js = fs.readdirSync(dir).find(f => /^speedscope-.*\.js$/.test(f));
  if (!js) throw new Error(`${dir}: no speedscope-*.js bundle`);
  return path.join(dir, js);
}

// Returns {import_file(name, bytes) -> profile group, messages: [{level, text}]}.
export function load_speedscope() {
  const file = bundle_path();
  let src = fs.readFileSync(file, 'utf8');
  // The import module: `X(mod,{importFromFileSystemDirectoryEntry:...,importProfilesFromArrayBuffer:...})`
  // and its lazy initialiser `()=>(init(),mod)`.
  const mod = /\b[\w$]+\(([\w$]+),\{importFromFileSystemDirectoryEntry:/.exec(src);
  if (!mod) throw new Error(`${file}: cannot find speedscope's import module`);
  const init = new RegExp(`\\(\\)=>\\(([\\w$]+)\\(\\),${mod[1].replace(/\$/g, '\\$')}\\)`).exec(src);
  if (!init) throw new Error(`${file}: cannot find the import module's initialiser`);
  const render = src.lastIndexOf('console.log(`speedscope v');
  const end = src.lastIndexOf('})();');
  if (render < 0 || end < render) throw new Error(`${file}: cannot find the app's render call`);
  src = src.slice(0, render) + `globalThis.__speedscope=(${init[1]}(),${mod[1]});` + src.slice(end);

  const messages = [];
  const record = level => (...args) => messages.push({ level, text: args.map(String).join(' ') });
  const quiet_console = { log: record('log'), info: record('info'), warn: record('warn'),
                          error: record('error'), debug: record('debug') };
  const element = () => ({ style: {}, appendChild() {}, setAttribute() {}, addEventListener() {},
                           getContext() { return null; } });
  const context = {
    console: quiet_console,
    navigator: { userAgent: 'node', platform: 'linux' },
    location: { href: 'file:///speedscope/index.html', hash: '', search: '', protocol: 'file:' },
    document: { createElement: element, head: element(), body: element(),
                addEventListener() {}, querySelector() { return null; } },
    addEventListener() {}, removeEventListener() {},
    matchMedia: () => ({ matches: false, addEventListener() {}, addListener() {} }),
    requestAnimationFrame: () => 0,
    setTimeout, clearTimeout, TextDecoder, TextEncoder, URL, Blob, atob, btoa,
    performance, queueMicrotask, WebAssembly, fetch: undefined,
  };
  context.window = context;
  context.self = context;
  vm.createContext(context);
  vm.runInContext(src, context, { filename: file });
  const api = context.__speedscope;
  return {
    messages,
    // The drop / file-picker path: importProfilesFromArrayBuffer(file name, contents).
    import_file: (name, bytes) =>
      api.importProfilesFromArrayBuffer(name, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
  };
}
