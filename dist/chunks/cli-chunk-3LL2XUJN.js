import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
var t={pass:0,gateFailed:1,badInput:2,waitingForHuman:3};var e={evidence:"evidence.json",summary:"summary.md",runState:"run-state.json",reportsDir:"reports"},o=".github/qualityfoundry.yml";var n="0.1.0";export{t as a,e as b,o as c,n as d};
