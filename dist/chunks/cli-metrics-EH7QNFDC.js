import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{f as r}from"./cli-chunk-TK2FMYYY.js";import"./cli-chunk-RDSWM55X.js";import"./cli-chunk-2MTW5CIF.js";import"./cli-chunk-KUBSUI45.js";async function n(t,o){return o.stdout(`${r().join(`
`)}
`),0}export{n as metricsCommand};
