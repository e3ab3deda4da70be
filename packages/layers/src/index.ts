/** @convlab/layers (work in progress). */
export {};
