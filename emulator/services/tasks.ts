// google.cloud.run.v2.Tasks: GetTask, ListTasks.
import {locationPath, parseExecutionName, parseTaskName} from '../names.ts';
import {paginate} from '../paging.ts';
import type {Message} from '../protos.ts';
import type {Service} from '../rpc.ts';
import type {Runtime} from '../runtime.ts';
import {resourceNotFound} from '../store.ts';

const DEFAULT_PAGE_SIZE = 100;

function getTask(rt: Runtime, request: Message): Message {
  const name = parseTaskName(request.name, 'name');
  const task = rt.store.execution(name).tasks.find(record => record.task.name === request.name);
  if (!task) throw resourceNotFound('TASK', name.task, name);
  return structuredClone(task.task);
}

function listTasks(rt: Runtime, request: Message): Message {
  const parent = parseExecutionName(request.parent, 'parent', true);
  // '-' stands for every execution (of a job, or of every job).
  if (parent.job !== '-' && parent.execution !== '-') rt.store.execution(parent);
  const executions = [...rt.store.executions.values()].filter(
    record =>
      locationPath(record.name) === locationPath(parent) &&
      (parent.job === '-' || record.name.job === parent.job) &&
      (parent.execution === '-' || record.name.execution === parent.execution) &&
      (!record.deleted || request.showDeleted),
  );
  const tasks = executions.flatMap(record => record.tasks.map(task => ({seq: record.seq, task: task.task})));
  // Newest execution first, each execution's tasks by index.
  const scope = `tasks:${request.parent}:${Boolean(request.showDeleted)}`;
  const page = paginate(tasks, entry => [-entry.seq, entry.task.index], request, scope, DEFAULT_PAGE_SIZE);
  return {tasks: page.items.map(entry => structuredClone(entry.task)), nextPageToken: page.nextPageToken};
}

export function tasksService(rt: Runtime): Service {
  return {
    name: 'google.cloud.run.v2.Tasks',
    methods: {
      GetTask: {
        authorize: r => [{permission: 'run.tasks.get', resource: r.name}],
        handle: r => getTask(rt, r),
      },
      ListTasks: {
        authorize: r => [{permission: 'run.tasks.list', resource: r.parent}],
        handle: r => listTasks(rt, r),
      },
    },
  };
}
