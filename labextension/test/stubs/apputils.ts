// The panels' React views are tested with react-dom/server in Node; JupyterLab's widget base class needs a
// browser DOM at import time, so tests see this stand-in (the views under test never touch it).
export class ReactWidget {
  id = '';
  addClass(_name: string): void {}
}
