'use strict';
// The new chat pipeline behind ENABLE_NEW_CHAT. Its rollout shipped with a settings loader that
// lost the `stages` list, so every request fails with a TypeError: the reason for the flag.
function loadPipelineSettings() {
  return { model: 'gpt-4o-mini', streaming: true, retries: 2 };
}

async function runNewChatPipeline(body) {
  const settings = loadPipelineSettings();
  const stages = settings.stages.map((stage) => stage.bind(null, settings));
  let state = { message: body.message };
  for (const stage of stages) state = await stage(state);
  return state;
}

module.exports = { runNewChatPipeline };
