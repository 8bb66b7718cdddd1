import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{a,b}from"./cli-chunk-RR4VKHVY.js";import"./cli-chunk-TOI6FMEP.js";import"./cli-chunk-P22ZO4IJ.js";import"./cli-chunk-H4T3SHMT.js";import"./cli-chunk-KOU4W7NH.js";import"./cli-chunk-NLPMTSIK.js";export{b as runSuiteCases,a as usesModel};
