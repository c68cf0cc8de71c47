/** Neural-network building blocks: Module, Parameter, Linear, Conv2d, norms, Embedding. */
package io.progrpo.tensor.nn;
