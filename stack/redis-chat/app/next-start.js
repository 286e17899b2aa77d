'use strict';
// pm2's entry for next-app: the Next standalone server (server/server.js). It listens on
// BIND_HOST (0.0.0.0), never on $HOSTNAME: a container's HOSTNAME is its own name, and
// `pm2 restart next-app --update-env` from an operator's shell would otherwise carry it in.
process.env.HOSTNAME = process.env.BIND_HOST || '0.0.0.0';
process.env.PORT = process.env.PORT || '3000';
require('./server/server.js');
