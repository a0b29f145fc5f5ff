// The editor declarations of the JS hooks API (crates/js/types.d.ts), checked with the
// TypeScript compiler API: they compile, correct hook files type-check against them, misuse
// is reported, and they declare what the runtime (crates/js/src/prelude.js, events.js)
// defines, no more. No server: the runtime's JS is only evaluated to list its names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SDK = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(SDK, '../..');
const TYPES = path.join(ROOT, 'crates/js/types.d.ts');
const TYPED = path.join(SDK, 'fixtures/typed.pb.js');
const MISUSED = path.join(SDK, 'fixtures/misused.pb.js');

// What an editor checking `*.pb.js` files would use; `types: []` keeps any @types package
// that may be installed out of the check.
function compilerOptions(lib) {
  const { options, errors } = ts.convertCompilerOptionsFromJson(
    { allowJs: true, checkJs: true, noEmit: true, strict: false, lib, types: [] }, ROOT);
  assert.deepEqual(errors, []);
  return options;
}

// Files read from disk (the lib files above all) are parsed once for every program.
const parsed = new Map();

// A program over `files` (paths) plus `virtual` ({path: text}), files that exist only here.
function program(files, { virtual = {}, lib = ['es2020'] } = {}) {
  const options = compilerOptions(lib);
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, version, ...rest) => {
    if (name in virtual) return ts.createSourceFile(name, virtual[name], version, true);
    const key = `${name}|${JSON.stringify(version)}`;
    if (!parsed.has(key)) parsed.set(key, getSourceFile.call(host, name, version, ...rest));
    return parsed.get(key);
  };
  host.fileExists = (name) => name in virtual || fileExists.call(host, name);
  host.readFile = (name) => (name in virtual ? virtual[name] : readFile.call(host, name));
  return ts.createProgram([TYPES, ...files, ...Object.keys(virtual)], options, host);
}

// Every diagnostic but those inside TypeScript's own lib files (checking them costs seconds;
// a clash with them is reported in our file too).
function diagnostics(p) {
  const ours = p.getSourceFiles().filter((f) => !p.isSourceFileDefaultLibrary(f));
  return [
    ...p.getOptionsDiagnostics(),
    ...p.getGlobalDiagnostics(),
    ...ours.flatMap((f) => [...p.getSyntacticDiagnostics(f), ...p.getSemanticDiagnostics(f)]),
  ];
}

function describe(list) {
  return ts.formatDiagnostics(list, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => '\n',
  });
}

// The hook files hooks.test.mjs serves (its `MAIN` and `RECORDS` constants), read from its
// source text: importing it would run its tests.
function hookFilesOfHooksTest() {
  const file = path.join(SDK, 'hooks.test.mjs');
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = {};
  for (const statement of sf.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const d of statement.declarationList.declarations) {
      const init = d.initializer;
      if (!ts.isIdentifier(d.name) || !['MAIN', 'RECORDS'].includes(d.name.text)) continue;
      assert.ok(init && ts.isTaggedTemplateExpression(init) && ts.isNoSubstitutionTemplateLiteral(init.template),
        `${d.name.text} is a String.raw template without substitutions`);
      // String.raw's value: the text between the backticks, as written.
      const text = sf.text.slice(init.template.getStart(sf) + 1, init.template.end - 1);
      out[path.join(SDK, `hooks.test.mjs.${d.name.text.toLowerCase()}.pb.js`)] = text;
    }
  }
  assert.deepEqual(Object.keys(out).length, 2, 'hooks.test.mjs defines MAIN and RECORDS');
  return out;
}

test('the declarations are one global script that compiles, also beside the DOM lib', () => {
  for (const lib of [['es2020'], ['es2020', 'dom']]) {
    const p = program([], { lib });
    const list = diagnostics(p);
    assert.equal(list.length, 0, `lib ${lib}:\n${describe(list)}`);
    assert.equal(ts.isExternalModule(p.getSourceFile(TYPES)), false, 'no import or export');
  }
});

test('correct hook files type-check: the broad fixture and the files of hooks.test.mjs', () => {
  const list = diagnostics(program([TYPED], { virtual: hookFilesOfHooksTest() }));
  assert.equal(list.length, 0, describe(list));
});

test('misuse is reported on every line marked `// wrong`, and only there', () => {
  const p = program([MISUSED]);
  const list = diagnostics(p);
  const sf = p.getSourceFile(MISUSED);
  for (const d of list) assert.equal(d.file?.fileName, MISUSED, describe([d]));
  const reported = [...new Set(list.map((d) => sf.getLineAndCharacterOfPosition(d.start).line + 1))];
  const marked = sf.text.split('\n').flatMap((line, i) => (/\/\/ wrong:/.test(line) ? [i + 1] : []));
  assert.ok(marked.length >= 10);
  assert.deepEqual(reported.sort((a, b) => a - b), marked, describe(list));
});

// ---------------------------------------------------------------- declarations vs runtime

// The runtime's globals, as a hook file's loader sees them: prelude.js and events.js run in a
// bare context (any native call would throw; none is made while they load).
function runtime() {
  const context = vm.createContext({
    __native: () => {
      throw new Error('no native calls here');
    },
  });
  for (const file of ['prelude.js', 'events.js']) {
    vm.runInContext(fs.readFileSync(path.join(ROOT, 'crates/js/src', file), 'utf8'), context, { filename: file });
  }
  vm.runInContext('__loader()', context);
  return context;
}

// Names the runtime defines that the declarations leave out on purpose.
const UNDECLARED = {
  globals: {
    RequestEvent: 'the class behind core.RequestEvent; PocketBase has no such global',
  },
  $apis: { activityLogger: "a no-op, not in PocketBase's JS API" },
  App: {
    findAuthRecordByToken: 'its native op (records.byToken) does not exist yet',
    validate: 'its native op (records.validate) does not exist yet',
    save_settings: 'its native op (settings.save) does not exist; not a PocketBase name',
  },
};

const publicNames = (names) => names.filter((n) => !n.startsWith('__') && n !== 'constructor');
const ownMethods = (proto) => publicNames(Object.getOwnPropertyNames(proto));

function compare(what, runtimeNames, declaredNames, { undeclared = {}, instanceFields = [] } = {}) {
  const declared = new Set(declaredNames);
  const present = new Set(runtimeNames);
  const missing = runtimeNames.filter((n) => !declared.has(n) && !(n in undeclared));
  const extra = declaredNames.filter((n) => !present.has(n) && !instanceFields.includes(n));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] },
    `${what}: "missing" are defined by the runtime but not declared, "extra" declared but not defined`);
}

test('the declared globals are those the runtime defines', () => {
  const p = program([]);
  const checker = p.getTypeChecker();
  const declared = [];
  for (const s of p.getSourceFile(TYPES).statements) {
    const names = ts.isVariableStatement(s) ? s.declarationList.declarations.map((d) => d.name) : s.name ? [s.name] : [];
    for (const name of names) {
      const symbol = checker.getSymbolAtLocation(name);
      if (symbol && symbol.flags & ts.SymbolFlags.Value) declared.push(symbol.name);
    }
  }
  compare('globals', publicNames(Object.getOwnPropertyNames(runtime())), publicNames([...new Set(declared)]),
    { undeclared: UNDECLARED.globals });
});

test('the helpers, Record, $app and the request event declare exactly their runtime members', () => {
  const p = program([]);
  const checker = p.getTypeChecker();
  const global = (name) => checker.getSymbolsInScope(p.getSourceFile(TYPES), ts.SymbolFlags.Namespace | ts.SymbolFlags.Value)
    .find((s) => s.name === name);
  const members = (namespace, name) => {
    const symbol = checker.getExportsOfModule(global(namespace)).find((s) => s.name === name);
    return checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)).map((s) => s.name);
  };
  const rt = runtime();
  for (const helper of ['$apis', '$dbx', '$security', '$os', '$filepath', '$http', '$template', '$filesystem']) {
    const declared = checker.getExportsOfModule(global(helper)).map((s) => s.name);
    compare(helper, Object.keys(rt[helper]), declared, { undeclared: UNDECLARED[helper] });
  }
  compare('core.Record', ownMethods(rt.Record.prototype), members('core', 'Record'));
  compare('core.App', ownMethods(rt.__App.prototype), members('core', 'App'), { undeclared: UNDECLARED.App });
  compare('core.RequestEvent', ownMethods(rt.RequestEvent.prototype), members('core', 'RequestEvent'), {
    undeclared: UNDECLARED.RequestEvent,
    instanceFields: ['app', 'auth', 'request', 'response'],
  });
});
