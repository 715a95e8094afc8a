import { tsImport } from 'tsx/esm/api';
const f = process.argv[2];
const mod = await tsImport('file://' + f, import.meta.url);
let def = mod.default; if (def.default) def = def.default;
try { def.map('boom', { emit() {} }); } catch (e) { console.log(e.stack); }
