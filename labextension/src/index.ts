/** The Shipyard JupyterLab extension: copilot panel, feature browser, promote to pipeline, monitoring. */

import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { inspectorIcon, tableRowsIcon } from '@jupyterlab/ui-components';

import { ShipyardClient } from './api';
import { registerCommands } from './commands';
import { CopilotPanel } from './copilot';
import { FeatureBrowser } from './features';
import { insertCode, selectedSource } from './notebook';

const PLUGIN_ID = 'shipyard-labextension:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Shipyard in JupyterLab: copilot, feature browser, promote to pipeline, monitoring.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ISettingRegistry, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null
  ) => {
    const options = { stream: true, historySize: 50 };
    const client = new ShipyardClient();
    let workspace = 'default';
    void client
      .status()
      .then(status => {
        workspace = status.workspace ?? 'none';
      })
      .catch(() => undefined);

    const insert = (code: string) => {
      if (!insertCode(tracker, code)) {
        window.alert('Open a notebook first: the code goes below its active cell.');
      }
    };

    const copilot = new CopilotPanel({
      client,
      workspaceKey: () => workspace,
      selectedCells: () => selectedSource(tracker),
      insertCode: insert,
      stream: () => options.stream,
      historySize: () => options.historySize
    });
    copilot.title.icon = inspectorIcon;
    copilot.title.caption = 'Shipyard Copilot';
    app.shell.add(copilot, 'right', { rank: 500 });

    const features = new FeatureBrowser({ client, insertCode: insert });
    features.title.icon = tableRowsIcon;
    features.title.caption = 'Shipyard Features';
    app.shell.add(features, 'left', { rank: 600 });

    registerCommands({ app, client, tracker, palette, copilot, features });

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(settings => {
        const apply = () => {
          client.configure({
            serverUrl: settings.get('serverUrl').composite as string,
            timeoutMs: settings.get('requestTimeoutMs').composite as number
          });
          options.stream = settings.get('streamAnswers').composite as boolean;
          options.historySize = settings.get('historySize').composite as number;
        };
        apply();
        settings.changed.connect(apply);
      });
    }
  }
};

export default plugin;
