import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{a,b}from"./cli-chunk-UXV2D2YI.js";import"./cli-chunk-GGWQ4IK2.js";import"./cli-chunk-P22ZO4IJ.js";import"./cli-chunk-FOE25BEA.js";import"./cli-chunk-2MTW5CIF.js";import"./cli-chunk-KUBSUI45.js";export{b as runSuiteCases,a as usesModel};
