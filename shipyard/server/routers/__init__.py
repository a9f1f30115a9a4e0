"""One router per domain; each route parses input, calls one service method, formats the result."""
