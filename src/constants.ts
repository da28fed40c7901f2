// The platform's numbers for the constants the modules export and use, as
// the native addon reads them from the system headers. Nothing here is a
// number written down in TypeScript: a constant the addon does not define
// is an error when the module loads, not a guess.
import { binding } from './binding';

/** The addon's value of the constant `name`. */
export function constant(name: string): number {
  const value = binding.constants[name];
  if (typeof value !== 'number') {
    throw new Error(`asyncore: the native addon defines no constant ${name}; rebuild it from this version's sources`);
  }
  return value;
}

// The poll(2) bits the pollers and the handlers use.
export const POLLIN = constant('POLLIN');
export const POLLPRI = constant('POLLPRI');
export const POLLOUT = constant('POLLOUT');
export const POLLERR = constant('POLLERR');
export const POLLHUP = constant('POLLHUP');
export const POLLNVAL = constant('POLLNVAL');
