/**
 * The gradebook of fixtures/homework (key.yaml and the four submissions), as the CSV
 * must read with paths relative to the repository: asserted through the library and
 * through the CLI. The totals are worked out by hand in the submissions' comments and the
 * key's parts (Bob: circuit 1 + neuron 3 + logistic 4 + norm 2 + softmax 3 + svm 2 = 15).
 * It starts with UTF-8's byte-order mark, so Excel reads it as UTF-8.
 */
export const GRADEBOOK = [
  '\uFEFFstudent,file,circuit,neuron,logistic,norm,softmax,svm,mlp,total,maximum',
  'Ada Lovelace,fixtures/homework/submissions/ada.yaml,5,4,5,4,4,3,5,30,30',
  'Bob,fixtures/homework/submissions/bob.yaml,1,3,4,2,3,2,0,15,30',
  `"'=HYPERLINK(""http://example.com"",""Carol"")",fixtures/homework/submissions/carol.json,5,0,0,2,0,0,0,7,30`,
  'Mallory,fixtures/homework/submissions/mallory.yaml,0,0,0,0,0,0,0,0,30',
  '',
].join('\r\n');
