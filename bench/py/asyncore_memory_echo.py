"""Python 3.11 asyncore's server for bench/memory.mjs: asyncore_echo.py's.

    python3 -W ignore asyncore_memory_echo.py --backend poll --tcp PORT

The same EchoServer and EchoHandler (the asyncore docs' example), except
that the listening dispatcher accepts until the backlog is empty instead of
one connection per pass. A poll pass over 10,000 channels takes tens of
milliseconds in Python, so one accept per pass would take minutes to reach
10,000 connections; what each connection holds does not change.
"""
import sys

import asyncore_echo


class AcceptAllServer(asyncore_echo.EchoServer):
    def handle_accept(self):
        while True:
            pair = self.accept()
            if pair is None:
                return
            self.handle_accepted(*pair)


if __name__ == '__main__':
    # main() looks EchoServer up in its module when it runs.
    asyncore_echo.EchoServer = AcceptAllServer
    asyncore_echo.main(sys.argv[1:])
