/** @convlab/viz (work in progress). */
export {};
