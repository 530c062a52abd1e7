// Folded function words ignored when comparing a message with knowledge-base questions.
export const STOPWORDS = new Set(
  (
    'a al algo algun alguna algunos ante antes asi aun bien buen buena buenas buenos como con cual cuales de del desde donde dos el ella ellas ellos en entre era es esa ese eso esta estan estas este esto estos estoy fue ha hay hola la las le les lo los mas me mi mis muy nos nosotros o os otra otro para pero poco por porque puede puedo que quien saber se sea ser si sin sobre son su sus tambien te tengo ti tiene tienen todo tu tus un una uno unos usted ustedes va vamos y ya yo gracias favor quisiera quiero necesito consulta pregunta dia dias tardes noches ' +
    'the a an and or of to in on at for from with by is are was were be been it its this that these those i me my we our you your they them he she his her do does did have has had can could would should will please hi hello thanks thank there what which who how when where why any some about just also'
  ).split(' '),
)
