"""Stand-ins for the outside world, shared by the tests, the demo and `serve --local`: a
Slack Web API emulator and a client that signs requests as Slack does. Nothing in the
running bot imports them."""
