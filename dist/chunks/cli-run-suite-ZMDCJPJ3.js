import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{a,b}from"./cli-chunk-7J5ACIGY.js";import"./cli-chunk-OOU6QG6Y.js";import"./cli-chunk-P22ZO4IJ.js";import"./cli-chunk-D46J64YW.js";import"./cli-chunk-675MSUMX.js";import"./cli-chunk-KUBSUI45.js";export{b as runSuiteCases,a as usesModel};
