/** @convlab/datasets (work in progress). */
export {};
