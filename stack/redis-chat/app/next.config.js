'use strict';
// A standalone server (server.js with only the files it needs), the Redis client kept as a
// package (not bundled), and a build id from build.sh so that one source gives one build.
module.exports = {
  output: 'standalone',
  outputFileTracingRoot: __dirname,
  serverExternalPackages: ['redis', '@redis/client'],
  poweredByHeader: false,
  generateBuildId: async () => process.env.CHAT_BUILD_ID || null,
  eslint: { ignoreDuringBuilds: true },
};
