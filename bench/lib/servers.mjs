// The echo servers every echo/churn cell is run against, in table order.
//
// `cmd(transport, where)` is the argv; transport is 'tcp' (where = port, 0
// for an ephemeral one) or 'unix' (where = socket path).  `peers` names the
// rows an "ours" row is divided by in the ratio tables.
import path from 'node:path';
import { benchDir, buildDir, ourPackage, pythonAsyncore } from './common.mjs';

const node = process.execPath;
const srv = (f) => path.join(benchDir, 'servers', f);
const py = (f) => path.join(benchDir, 'py', f);
const endpoint = (transport, where) => (transport === 'unix' ? ['--unix', where] : ['--tcp', String(where)]);

export const servers = [
  {
    id: 'asyncore-select',
    label: 'asyncore (this pkg), select',
    group: 'ours',
    needs: 'package',
    cmd: (t, w) => [node, srv('asyncore_echo.mjs'), '--backend', 'select', ...endpoint(t, w)],
    peers: { python: 'py-asyncore-select', node: 'node-net', c: 'c-epoll' },
  },
  {
    id: 'asyncore-poll',
    label: 'asyncore (this pkg), poll',
    group: 'ours',
    needs: 'package',
    cmd: (t, w) => [node, srv('asyncore_echo.mjs'), '--backend', 'poll', ...endpoint(t, w)],
    peers: { python: 'py-asyncore-poll', node: 'node-net', c: 'c-epoll' },
  },
  {
    id: 'asyncore-epoll',
    label: 'asyncore (this pkg), epoll',
    group: 'ours',
    needs: 'package',
    cmd: (t, w) => [node, srv('asyncore_echo.mjs'), '--backend', 'epoll', ...endpoint(t, w)],
    // Python's asyncore has no epoll backend; poll is its best.
    peers: { python: 'py-asyncore-poll', node: 'node-net', c: 'c-epoll' },
  },
  {
    id: 'asyncore-epoll-on-change',
    label: 'asyncore (this pkg), epoll, interest on_change',
    group: 'ours',
    needs: 'package',
    cmd: (t, w) => [node, srv('asyncore_echo.mjs'), '--backend', 'epoll', '--interest', 'on_change', ...endpoint(t, w)],
    // The floor: the same system calls with nothing of asyncore between them;
    // the contract floor: those calls plus only what asyncore's contract needs.
    peers: { python: 'py-asyncore-poll', node: 'node-net', c: 'c-epoll', floor: 'addon-floor', contract: 'asyncore-contract-floor' },
  },
  {
    id: 'asynchat-poll',
    label: 'asynchat line echo (this pkg), poll',
    group: 'ours',
    needs: 'package',
    cmd: (t, w) => [node, srv('asynchat_echo.mjs'), '--backend', 'poll', ...endpoint(t, w)],
    peers: { python: 'py-asynchat-poll', node: 'node-net', c: 'c-epoll' },
  },
  {
    id: 'node-net',
    label: 'Node net, socket.pipe(socket)',
    group: 'peer',
    cmd: (t, w) => [node, srv('node_net_echo.mjs'), ...endpoint(t, w)],
  },
  {
    id: 'addon-floor',
    label: 'JS floor: this addon, no asyncore',
    group: 'peer',
    needs: 'package',
    cmd: (t, w) => [node, srv('addon_floor_echo.mjs'), ...endpoint(t, w)],
    peers: { node: 'node-net', c: 'c-epoll' },
  },
  {
    id: 'asyncore-contract-floor',
    label: "asyncore's contract floor: the JS floor + what a port must do",
    group: 'peer',
    needs: 'package',
    cmd: (t, w) => [node, srv('asyncore_contract_floor.mjs'), ...endpoint(t, w)],
    peers: { floor: 'addon-floor' },
  },
  {
    id: 'py-asyncore-select',
    label: 'Python 3.11 asyncore, select',
    group: 'peer',
    needs: 'python',
    cmd: (t, w) => [pythonAsyncore().python, '-W', 'ignore', py('asyncore_echo.py'), '--backend', 'select', ...endpoint(t, w)],
  },
  {
    id: 'py-asyncore-poll',
    label: 'Python 3.11 asyncore, poll',
    group: 'peer',
    needs: 'python',
    cmd: (t, w) => [pythonAsyncore().python, '-W', 'ignore', py('asyncore_echo.py'), '--backend', 'poll', ...endpoint(t, w)],
  },
  {
    id: 'py-asynchat-poll',
    label: 'Python 3.11 asynchat line echo, poll',
    group: 'peer',
    needs: 'python',
    cmd: (t, w) => [pythonAsyncore().python, '-W', 'ignore', py('asynchat_echo.py'), '--backend', 'poll', ...endpoint(t, w)],
  },
  {
    id: 'c-epoll',
    label: 'C epoll, one thread (ceiling)',
    group: 'peer',
    cmd: (t, w) => [path.join(buildDir, 'echo_epoll'), ...endpoint(t, w)],
  },
];

// The servers that can run here, and a note for each group left out.
export function availableServers(filter = null) {
  const notes = [];
  const py = pythonAsyncore();
  const pkg = ourPackage();
  if (!py.ok) notes.push(py.note);
  else notes.push(`Python peers: ${py.python} ${py.version}`);
  if (!pkg.ok) notes.push(pkg.note);
  const list = servers.filter((s) => {
    if (filter && !filter.includes(s.id)) return false;
    if (s.needs === 'python' && !py.ok) return false;
    if (s.needs === 'package' && !pkg.ok) return false;
    return true;
  });
  return { list, notes };
}
