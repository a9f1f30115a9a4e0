/** The Shipyard JupyterLab extension: copilot, feature browser, models + deploy, promote, cell tag chips, monitoring. */

import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { inspectorIcon, launchIcon, tableRowsIcon } from '@jupyterlab/ui-components';

import { ShipyardClient } from './api';
import { attachCellTags } from './celltags';
import { CommandContext, CommandIDs, deploy, registerCommands } from './commands';
import { CopilotPanel } from './copilot';
import { ModelsPanel } from './deploy';
import { FeatureBrowser } from './features';
import { insertCode, selectedSource } from './notebook';

const PLUGIN_ID = 'shipyard-labextension:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Shipyard in JupyterLab: copilot, features, models + deploy, promote, cell tag chips, monitoring.',
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

    let showTags = true;
    let settings: ISettingRegistry.ISettings | null = null;
    const resyncs = new Set<() => void>();
    const applyShowTags = (show: boolean) => {
      if (show !== showTags) {
        showTags = show;
        resyncs.forEach(sync => sync());
        app.commands.notifyCommandChanged(CommandIDs.toggleCellTags);
      }
    };
    tracker.widgetAdded.connect((_, panel) => {
      const sync = attachCellTags(panel, () => showTags);
      resyncs.add(sync);
      panel.disposed.connect(() => resyncs.delete(sync));
    });

    // The panel's "Deploy…" opens the same dialog as the command (ctx is complete by the time it is clicked).
    const models = new ModelsPanel({ client, onDeploy: (model, ref) => void deploy(ctx, model, ref) });
    models.title.icon = launchIcon;
    models.title.caption = 'Shipyard Models';
    app.shell.add(models, 'left', { rank: 610 });

    const ctx: CommandContext = {
      app,
      client,
      tracker,
      palette,
      copilot,
      features,
      models,
      cellTags: {
        shown: () => showTags,
        toggle: () => {
          if (settings) {
            void settings.set('showCellTagChips', !showTags); // applied through settings.changed
          } else {
            applyShowTags(!showTags);
          }
        }
      }
    };
    registerCommands(ctx);

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(loaded => {
        settings = loaded;
        const apply = () => {
          applyShowTags(loaded.get('showCellTagChips').composite as boolean);
          client.configure({
            serverUrl: loaded.get('serverUrl').composite as string,
            timeoutMs: loaded.get('requestTimeoutMs').composite as number
          });
          options.stream = loaded.get('streamAnswers').composite as boolean;
          options.historySize = loaded.get('historySize').composite as number;
        };
        apply();
        loaded.changed.connect(apply);
      });
    }
  }
};

export default plugin;
