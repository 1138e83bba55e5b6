"""What an action does from any screen: confirm exactly what will happen, run the service
in a worker, then say where to look next (a navigation message). Screens call these;
these never import a screen."""
