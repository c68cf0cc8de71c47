/** JMH benchmarks. */
package io.progrpo.bench;
