import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{d as r}from"./cli-chunk-5QUE6SQ7.js";import"./cli-chunk-JBI54CGD.js";import"./cli-chunk-TCXAUWUD.js";import"./cli-chunk-CCERFH5B.js";import"./cli-chunk-KN57RDPO.js";import"./cli-chunk-FI4RENZ2.js";import"./cli-chunk-KUBSUI45.js";async function n(t,o){return o.stdout(r().join(`
`)+`
`),0}export{n as metricsCommand};
