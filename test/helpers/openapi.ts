import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'

type Parameter = { in: string; name: string; required?: boolean; schema?: { type?: string } }
type Operation = {
  parameters?: ({ $ref: string } | Parameter)[]
  security?: Record<string, string[]>[]
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> }
}
type Document = {
  paths: Record<string, Record<string, Operation | Parameter[]>>
  components: {
    parameters?: Record<string, Parameter>
    securitySchemes?: Record<string, { type: string; in?: string; name?: string }>
  }
}

export type RequestToCheck = {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1')

/**
 * Checks requests against an OpenAPI 3.1 document: the operation exists for the method and
 * path, path parameters have their declared type, the security header is present, and the
 * JSON body validates against the operation's request schema. Returns the violations.
 */
export function openApiChecker(file: string) {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Document
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
  ajv.addSchema(doc as object, 'spec')
  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}/?$`),
    names: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
  }))
  const validators = new Map<string, ReturnType<typeof ajv.compile>>()
  const resolveParameter = (p: { $ref: string } | Parameter): Parameter => {
    if ('$ref' in p) return doc.components.parameters?.[p.$ref.split('/').pop()!] as Parameter
    return p
  }

  return function check(req: RequestToCheck): string[] {
    const method = req.method.toLowerCase()
    const path = req.path.split('?')[0]!
    const matches = templates.filter((t) => t.regex.test(path))
    const match = matches.find((t) => doc.paths[t.template]?.[method])
    if (!match) return [`${req.method} ${path}: no such operation in the spec`]
    const item = doc.paths[match.template]!
    const operation = item[method] as Operation
    const violations: string[] = []
    const values = match.regex.exec(path)!.slice(1)
    const parameters = [
      ...((item.parameters as Parameter[] | undefined) ?? []),
      ...(operation.parameters ?? []),
    ].map(resolveParameter)
    match.names.forEach((name, i) => {
      const declared = parameters.find((p) => p?.in === 'path' && p.name === name)
      if (declared?.schema?.type === 'integer' && !/^\d+$/.test(values[i] ?? '')) {
        violations.push(`path parameter ${name}="${values[i]}" is not an integer`)
      }
    })
    const security = operation.security ?? []
    if (security.length > 0) {
      const satisfied = security.some((requirement) =>
        Object.keys(requirement).every((scheme) => {
          const def = doc.components.securitySchemes?.[scheme]
          if (def?.type !== 'apiKey' || def.in !== 'header' || !def.name) return false
          const value = req.headers[def.name.toLowerCase()]
          return typeof value === 'string' && value.length > 0
        }),
      )
      if (!satisfied) violations.push('missing the api_access_token header the operation requires')
    }
    const json = operation.requestBody?.content?.['application/json']
    if (json?.schema) {
      if (req.body === undefined) {
        if (operation.requestBody?.required) violations.push('request body is required')
      } else {
        const pointer = `spec#/paths/${escapePointer(match.template)}/${method}/requestBody/content/application~1json/schema`
        let validate = validators.get(pointer)
        if (!validate) {
          validate = ajv.compile({ $ref: pointer })
          validators.set(pointer, validate)
        }
        if (!validate(req.body)) {
          for (const error of validate.errors ?? []) {
            violations.push(`body${error.instancePath} ${error.message ?? 'is invalid'}`)
          }
        }
      }
    }
    return violations
  }
}
