# Twisted 22.4's side of bench/twisted.mjs: the same two echo protocols on
# Twisted's epoll reactor, as a Twisted user would write them: a
# LineReceiver (delimiter b"\n") that sends each line back with sendLine(),
# or a raw Protocol that writes back what dataReceived() gets.
#
#   python3 twisted_echo.py --mode line|raw --tcp PORT
#
# PORT 0 binds an ephemeral port. Prints "ready <port>" once listening.
# Backlog 1024, as every server in bench/.
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import protocol, reactor  # noqa: E402
from twisted.protocols.basic import LineReceiver  # noqa: E402


class LineEcho(LineReceiver):
    delimiter = b"\n"

    def lineReceived(self, line):
        self.sendLine(line)


class RawEcho(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


def main():
    argv = sys.argv[1:]
    mode = argv[argv.index("--mode") + 1] if "--mode" in argv else "line"
    port = int(argv[argv.index("--tcp") + 1])
    factory = protocol.Factory.forProtocol(LineEcho if mode == "line" else RawEcho)
    factory.noisy = False
    listening = reactor.listenTCP(port, factory, backlog=1024, interface="127.0.0.1")
    print("ready %d" % listening.getHost().port, flush=True)
    reactor.run()


main()
