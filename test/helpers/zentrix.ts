/**
 * Messages about a device the corpus has never heard of, the "zentrix": what a business's own
 * customers might write about its faults. The triage cannot tell what they are until people
 * correct it (the learning tests).
 */
export const ZENTRIX_FAULTS = [
  'el zentrix parpadea en rojo desde ayer',
  'mi zentrix se apaga solo',
  'el zentrix hace un ruido raro',
  'zentrix pantalla en negro',
  'el zentrix no prende la luz verde',
  'el zentrix se reinicia a cada rato',
  'mi zentrix se calienta mucho',
  'zentrix con la luz naranja fija',
  'el zentrix pita tres veces',
  'se trabó el zentrix en el menú',
  'el zentrix muestra rayas en la pantalla',
  'zentrix no responde los botones',
  'mi zentrix quedó congelado',
  'el zentrix se desconecta del wifi',
  'zentrix tarda mucho en encender',
  'el zentrix parpadea en azul',
] as const
