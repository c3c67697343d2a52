"""Admin tools in the chat for training officers and evaluators: registry, guard, service, handlers."""
