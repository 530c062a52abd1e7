// natural's deep modules ship without types; we import them directly so that loading the
// package root (which reads .env and pulls in storage back-ends) never happens.
declare module 'natural/lib/natural/stemmers/porter_stemmer_es.js' {
  const stemmer: { stem(word: string): string }
  export default stemmer
}
declare module 'natural/lib/natural/stemmers/porter_stemmer.js' {
  const stemmer: { stem(word: string): string }
  export default stemmer
}
declare module 'natural/lib/natural/classifiers/bayes_classifier.js' {
  type Stemmer = { tokenizeAndStem(text: string, keepStops?: boolean): string[] }
  class BayesClassifier {
    constructor(stemmer?: Stemmer, smoothing?: number)
    features: Record<string, number>
    docs: { label: string; text: string[] }[]
    classifier: {
      classFeatures: Record<string, Record<string, number>>
      classTotals: Record<string, number>
      totalExamples: number
      smoothing: number
      getClassifications(
        observation: number[] | Record<string, number>,
      ): { label: string; value: number }[]
    }
    addDocument(text: string | string[], label: string): void
    textToFeatures(observation: string | string[]): number[]
    train(): void
    getClassifications(observation: string | string[]): { label: string; value: number }[]
    classify(observation: string | string[]): string
  }
  export default BayesClassifier
}
