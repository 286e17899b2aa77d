'use strict';
// Settings the app reads once, from its process environment, when it starts (pm2 keeps that
// environment: a changed shell variable counts only after `pm2 restart ... --update-env`).
const env = process.env;

module.exports = {
  newChat: env.ENABLE_NEW_CHAT === 'true',
};
