/** Every Shipyard command, registered in one place; ids live under ``shipyard:``. */

import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, ICommandPalette, MainAreaWidget, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { ShipyardClient } from './api';
import { pipelineNameFor } from './format';
import { MonitorWidget } from './monitor';
import { selectedCellIds } from './notebook';
import { PromoteBodyWidget } from './promote';

export namespace CommandIDs {
  export const openCopilot = 'shipyard:open-copilot';
  export const openFeatures = 'shipyard:open-features';
  export const promote = 'shipyard:promote';
  export const promoteNotebook = 'shipyard:promote-notebook';
  export const openMonitor = 'shipyard:open-monitor';
}

export interface CommandContext {
  app: JupyterFrontEnd;
  client: ShipyardClient;
  tracker: INotebookTracker;
  palette: ICommandPalette | null;
  copilot: Widget;
  features: Widget;
}

const CATEGORY = 'Shipyard';

async function promote(ctx: CommandContext, onlySelected: boolean): Promise<void> {
  const panel = ctx.tracker.currentWidget;
  if (!panel) {
    await showDialog({ title: 'Promote to pipeline', body: 'Open a notebook with tagged cells first.', buttons: [Dialog.okButton()] });
    return;
  }
  const path = panel.context.path;
  const body = {
    content: panel.context.model.toJSON(),
    name: pipelineNameFor(path),
    cells: onlySelected ? selectedCellIds(panel) : undefined
  };
  await showDialog({
    title: `Promote ${onlySelected ? 'selected cells' : 'notebook'} to pipeline`,
    body: new PromoteBodyWidget({ client: ctx.client, body }),
    buttons: [Dialog.cancelButton({ label: 'Close' })]
  });
}

export function registerCommands(ctx: CommandContext): void {
  const { app } = ctx;
  let monitor: MainAreaWidget<MonitorWidget> | null = null;

  app.commands.addCommand(CommandIDs.openCopilot, {
    label: 'Shipyard: Ask Copilot',
    caption: 'Open the Shipyard copilot panel',
    execute: () => app.shell.activateById(ctx.copilot.id)
  });
  app.commands.addCommand(CommandIDs.openFeatures, {
    label: 'Shipyard: Browse Features',
    caption: 'Open the Shipyard feature browser',
    execute: () => app.shell.activateById(ctx.features.id)
  });
  app.commands.addCommand(CommandIDs.promote, {
    label: 'Shipyard: Promote selected cells to pipeline',
    caption: 'Preview, create and run a pipeline from the selected (tagged) cells',
    isEnabled: () => ctx.tracker.currentWidget !== null,
    execute: () => promote(ctx, true)
  });
  app.commands.addCommand(CommandIDs.promoteNotebook, {
    label: 'Shipyard: Promote notebook to pipeline',
    caption: 'Preview, create and run a pipeline from every tagged cell of the notebook',
    isEnabled: () => ctx.tracker.currentWidget !== null,
    execute: () => promote(ctx, false)
  });
  app.commands.addCommand(CommandIDs.openMonitor, {
    label: 'Shipyard: Open Monitoring',
    caption: 'Drift, latency and alerts per deployment',
    execute: () => {
      if (!monitor || monitor.isDisposed) {
        monitor = new MainAreaWidget({ content: new MonitorWidget(ctx.client) });
        monitor.id = 'shipyard-monitor-view';
        monitor.title.label = 'Shipyard Monitoring';
        monitor.title.closable = true;
        app.shell.add(monitor, 'main');
      }
      app.shell.activateById(monitor.id);
    }
  });

  for (const command of Object.values(CommandIDs)) {
    ctx.palette?.addItem({ command, category: CATEGORY });
  }
  app.contextMenu.addItem({ command: CommandIDs.promote, selector: '.jp-Notebook .jp-Cell', rank: 100 });
}
